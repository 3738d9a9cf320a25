-- Named secrets and ad-hoc deliveries.
SELECT 1;

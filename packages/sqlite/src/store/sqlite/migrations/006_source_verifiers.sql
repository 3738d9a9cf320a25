-- Sources: verifiers beyond signatures (token, basic, none) and the sender CIDR allowlist.
SELECT 1;

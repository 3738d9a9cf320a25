-- The self-filling event-type catalogue (auto, first/last seen, counts).
SELECT 1;

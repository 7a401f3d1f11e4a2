-- 0004: reserved for the alert-evaluation branch (issue 28), which adds the real 0004; this placeholder only keeps
-- the numbers of the source-map branch (issue 25, 0005) without a gap. It changes nothing. Whoever merges the second
-- of the two branches deletes this file (the migration test fails on two files numbered 0004).
SELECT 1;

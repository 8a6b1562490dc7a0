-- rated_365d and rating_365d now leave out misery moments: the 365-day
-- rating the risk model reads is how the customer rates the firm when
-- nothing went wrong (docs/risk.md). Measure everyone again at the next
-- sweep so that no figure keeps the old sense.
UPDATE customer_measures SET due_at = 0;

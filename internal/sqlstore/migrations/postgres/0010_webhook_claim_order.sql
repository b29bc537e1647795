-- The workers' claim takes pending rows in (next_attempt_at, id) order.
-- With the id in the index, its LIMIT stops after the rows it takes even
-- when a large backlog fell due at one instant; without it every due row
-- was read and sorted on every claim.
DROP INDEX webhook_deliveries_due_idx;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';

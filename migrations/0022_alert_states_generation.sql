-- The generation of the stored alert states (issue #16): the check-alerts round keeps the
-- states inside the engine between runs, and the engine's copy is current only while it was
-- made from, or written as, the generation D1 holds. Every writer of alert_states raises it:
-- a round writes its changed rows as the next generation; acknowledging or resolving by hand
-- raises it too, so an engine holding the earlier generation restores the states from D1.
ALTER TABLE alert_config ADD COLUMN states_generation INTEGER NOT NULL DEFAULT 0;

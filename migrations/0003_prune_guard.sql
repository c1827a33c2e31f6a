-- Old runs may be removed only by `hermes gateway prune`, which opens this gate inside its
-- own transaction (one row here while it deletes) and closes it before committing.
CREATE TABLE prune_gate (
    token TEXT PRIMARY KEY   -- the prune operation holding the gate open
);

CREATE TRIGGER events_are_deleted_only_by_prune BEFORE DELETE ON events
WHEN NOT EXISTS (SELECT 1 FROM prune_gate)
BEGIN
    SELECT RAISE(ABORT, 'events are deleted only by hermes gateway prune');
END;

-- The change feed (docs/ARCHITECTURE.md "Caches and the change feed").
-- Processes sharing one SQLite file cache per-pool data (the pool row with
-- its settings, field definitions, pipelines); SQLite has no notifications,
-- so triggers count every change to those rows in change_counter, which
-- each process polls (sqlstore/changes.go) and drops its cache when the
-- count moved. A process's own writes drop its cache at once.

CREATE TABLE change_counter (
	id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO change_counter (id, n) VALUES (1, 0);

CREATE TRIGGER pools_changed_u AFTER UPDATE ON pools BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER pools_changed_d AFTER DELETE ON pools BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER user_fields_changed_i AFTER INSERT ON user_fields BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER user_fields_changed_u AFTER UPDATE ON user_fields BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER user_fields_changed_d AFTER DELETE ON user_fields BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER pipelines_changed_i AFTER INSERT ON pipelines BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER pipelines_changed_u AFTER UPDATE ON pipelines BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER pipelines_changed_d AFTER DELETE ON pipelines BEGIN UPDATE change_counter SET n = n + 1 WHERE id = 1; END;

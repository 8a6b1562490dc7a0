-- Every group of moments recorded consults the firm's settings: the
-- touchpoints (names, service levels), the recovery policy, the stage rules,
-- the risk model, the survey policies and the webhook subscriptions. Rather
-- than read them all for each group, each server keeps them in memory with
-- the version below, and reads only the version: the database itself gives
-- it a new value whenever any of those tables changes, whoever changes it,
-- so a server sharing the database with others sees their changes with its
-- next transaction. New values are unique (random on SQLite, a sequence on
-- PostgreSQL), so a change rolled back can never leave a version that a
-- later, different change would take.
CREATE TABLE settings_version (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	version BIGINT NOT NULL
);
INSERT INTO settings_version (id, version) VALUES (1, 0);
-- dialect: sqlite
CREATE TRIGGER touchpoints_insert_version AFTER INSERT ON touchpoints BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER touchpoints_update_version AFTER UPDATE ON touchpoints BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER touchpoints_delete_version AFTER DELETE ON touchpoints BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER recovery_policy_insert_version AFTER INSERT ON recovery_policy BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER recovery_policy_update_version AFTER UPDATE ON recovery_policy BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER recovery_policy_delete_version AFTER DELETE ON recovery_policy BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER stage_rules_insert_version AFTER INSERT ON stage_rules BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER stage_rules_update_version AFTER UPDATE ON stage_rules BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER stage_rules_delete_version AFTER DELETE ON stage_rules BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER risk_models_insert_version AFTER INSERT ON risk_models BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER risk_models_update_version AFTER UPDATE ON risk_models BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER risk_models_delete_version AFTER DELETE ON risk_models BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER survey_policies_insert_version AFTER INSERT ON survey_policies BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER survey_policies_update_version AFTER UPDATE ON survey_policies BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER survey_policies_delete_version AFTER DELETE ON survey_policies BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER webhook_endpoints_insert_version AFTER INSERT ON webhook_endpoints BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER webhook_endpoints_update_version AFTER UPDATE ON webhook_endpoints BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER webhook_endpoints_delete_version AFTER DELETE ON webhook_endpoints BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER webhook_subscriptions_insert_version AFTER INSERT ON webhook_subscriptions BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER webhook_subscriptions_update_version AFTER UPDATE ON webhook_subscriptions BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER webhook_subscriptions_delete_version AFTER DELETE ON webhook_subscriptions BEGIN UPDATE settings_version SET version = random(); END;
-- dialect: postgres
CREATE SEQUENCE settings_versions;
CREATE FUNCTION settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE settings_version SET version = nextval('settings_versions');
	RETURN NULL;
END;
$$;
CREATE TRIGGER touchpoints_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON touchpoints FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
CREATE TRIGGER recovery_policy_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recovery_policy FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
CREATE TRIGGER stage_rules_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stage_rules FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
CREATE TRIGGER risk_models_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON risk_models FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
CREATE TRIGGER survey_policies_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON survey_policies FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
CREATE TRIGGER webhook_endpoints_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_endpoints FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();
CREATE TRIGGER webhook_subscriptions_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhook_subscriptions FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();

-- Recording a moment checks its touchpoint and response against the firm's
-- own; both are now kept with the settings (sqlstore/settings.go), so the
-- responses change the settings' version as the touchpoints already do.
-- dialect: sqlite
CREATE TRIGGER responses_insert_version AFTER INSERT ON responses BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER responses_update_version AFTER UPDATE ON responses BEGIN UPDATE settings_version SET version = random(); END;
CREATE TRIGGER responses_delete_version AFTER DELETE ON responses BEGIN UPDATE settings_version SET version = random(); END;
-- dialect: postgres
CREATE TRIGGER responses_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON responses FOR EACH STATEMENT EXECUTE FUNCTION settings_changed();

from django.db import migrations

# The audit log is append-only at the database level: UPDATE and DELETE raise.
SQL = """
CREATE OR REPLACE FUNCTION access_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_auditlog_no_update BEFORE UPDATE OR DELETE ON access_auditlog
    FOR EACH ROW EXECUTE FUNCTION access_auditlog_append_only();
"""
REVERSE = """
DROP TRIGGER IF EXISTS access_auditlog_no_update ON access_auditlog;
DROP FUNCTION IF EXISTS access_auditlog_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]
    operations = [migrations.RunSQL(SQL, REVERSE)]

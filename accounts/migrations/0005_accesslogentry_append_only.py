"""The access log is append-only: a trigger refuses UPDATE and DELETE, even by the app's role.

There is deliberately no TRUNCATE trigger: Django's test flush (transactional tests) truncates
every table. TRUNCATE needs the TRUNCATE privilege, which the application's role must not hold
in production (the table should be owned by a separate migration role).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION accounts_accesslogentry_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER accounts_accesslogentry_append_only
BEFORE UPDATE OR DELETE ON accounts_accesslogentry
FOR EACH ROW EXECUTE FUNCTION accounts_accesslogentry_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS accounts_accesslogentry_append_only ON accounts_accesslogentry;
DROP FUNCTION IF EXISTS accounts_accesslogentry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_accesslogentry")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]

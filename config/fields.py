"""Model fields whose values are encrypted at rest, and the helpers that (re-)encrypt columns.

``settings.HARBOR_FIELD_ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts,
every one of them decrypts (``cryptography``'s ``MultiFernet``). To rotate, put a new key first,
run ``manage.py rotate_field_encryption`` (every stored value is re-encrypted with it), then
remove the old key. Encryption happens in the application: the database, its backups and the
history tables only ever hold Fernet tokens (authenticated AES-128-CBC, see the Fernet spec).

An empty value is stored as ``""``: there is nothing to hide but the fact that the field is
blank, and it keeps ``filter(notes="")`` / ``exclude(notes="")`` possible. Nothing else can be
compared in SQL, since every token differs even for the same text: other lookups raise
``FieldError`` rather than silently matching nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.db import models, transaction
from django.db.models import lookups

# Lookups the database can still answer on an encrypted column.
ALLOWED_LOOKUPS = {"exact", "isnull"}


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key (the message never holds it)."""


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _fernet() -> MultiFernet:
    # Keyed on the current setting, so a changed setting (tests, a reload) takes effect at once.
    return _multi_fernet(tuple(settings.HARBOR_FIELD_ENCRYPTION_KEYS))


def _first_key() -> Fernet:
    return _multi_fernet((settings.HARBOR_FIELD_ENCRYPTION_KEYS[0],))


def encrypt(text: str) -> str:
    """A Fernet token of ``text`` under the first key ("" stays "")."""
    if text == "":
        return ""
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token made with any configured key ("" stays ""). Raises ``InvalidToken``."""
    if token == "":
        return ""
    return _fernet().decrypt(token.encode("ascii")).decode("utf-8")


def is_token(value: str) -> bool:
    """True if ``value`` is a token that one of the configured keys decrypts."""
    try:
        decrypt(value)
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def needs_rotation(token: str) -> bool:
    """True if ``token`` is not already encrypted with the first key."""
    try:
        _first_key().decrypt(token.encode("ascii"))
    except InvalidToken:
        return True
    return False


def rotate(token: str) -> str:
    """``token`` re-encrypted with the first key (its original timestamp is kept)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


class _ExactEmpty(lookups.Exact):
    """``field=""`` is the one comparison an encrypted column can answer."""

    def get_prep_lookup(self):
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: it can only be compared with an empty string."
            )
        return super().get_prep_lookup()


class EncryptedFieldMixin:
    """Encrypts on the way to the database, decrypts on the way back; always a ``text`` column
    (a token is about twice as long as its text, so ``max_length`` only validates the text)."""

    def db_type(self, connection) -> str:
        return "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None:
            return None
        return encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        try:
            return decrypt(value)
        except (InvalidToken, UnicodeEncodeError) as error:
            raise DecryptionError(
                f"A value of {self.model._meta.label}.{self.name} cannot be decrypted with any key in "
                "HARBOR_FIELD_ENCRYPTION_KEYS."
            ) from error

    def get_lookup(self, lookup_name):
        if lookup_name not in ALLOWED_LOOKUPS:
            raise FieldError(f"{self.name} is encrypted: the database cannot compare or search it.")
        if lookup_name == "exact":
            return _ExactEmpty
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.name} is encrypted: the database cannot compare or search it.")


class EncryptedCharField(EncryptedFieldMixin, models.CharField):
    """A ``CharField`` stored encrypted; ``max_length`` bounds the text, not the column."""


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """A ``TextField`` stored encrypted."""


def encrypted_columns() -> Iterator[tuple[type[models.Model], list[models.Field]]]:
    """Every installed model with encrypted columns (history tables included), with those fields."""
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
        if fields:
            yield model, fields


def rotate_encryption(*, batch: int = 1000, connection=None) -> dict[str, int]:
    """Re-encrypt with the first key every stored value of every encrypted column that is not
    already under it (see ``rewrite_columns``), history tables included. Returns, per model
    label, how many values were re-encrypted. Running it again re-encrypts nothing more.

    Rewriting a token does not change the record: the history triggers (the update events of
    tracked tables, the append-only guard of history tables) are ignored for it.
    """
    import pgtrigger
    from django.db import connection as default_connection

    connection = connection or default_connection
    counts = {}
    with pgtrigger.ignore():
        for model, fields in encrypted_columns():
            counts[model._meta.label] = rewrite_columns(
                connection,
                table=model._meta.db_table,
                pk=model._meta.pk.column,
                columns=[field.column for field in fields],
                change=rotate_if_needed,
                batch=batch,
            )
    return counts


def _batches(cursor, *, table: str, pk: str, columns: list[str], batch: int) -> Iterator[list[tuple]]:
    """Rows (pk, *columns) of ``table`` with any column non-empty, ``batch`` at a time, by pk.

    Table and column names come from model metadata (never from input), quoted.
    """
    any_set = " OR ".join(f"{column} <> ''" for column in columns)
    select = f"SELECT {pk}, {', '.join(columns)} FROM {table} WHERE ({any_set})"  # noqa: S608
    last = None
    while True:
        if last is None:
            cursor.execute(f"{select} ORDER BY {pk} LIMIT %s", [batch])
        else:
            cursor.execute(f"{select} AND {pk} > %s ORDER BY {pk} LIMIT %s", [last, batch])
        rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rewrite_columns(connection, *, table: str, pk: str, columns: list[str], change, batch: int = 1000) -> int:
    """Apply ``change`` (stored value → new stored value, or None to leave it) to every non-empty
    value of ``columns`` in ``table``, ``batch`` rows per transaction, in SQL only: no model
    ``save()``, so ``auto_now`` timestamps stay as they were. Returns how many values changed.

    Each write is conditional on the value still being the one read, so a value the application
    changed in the meantime (already written with the first key) is never overwritten.
    Used by the migrations that encrypt plaintext columns and by ``rotate_field_encryption``.
    """
    quote = connection.ops.quote_name
    table, pk = quote(table), quote(pk)
    quoted = [quote(column) for column in columns]
    changed = 0
    with connection.cursor() as cursor:
        for rows in _batches(cursor, table=table, pk=pk, columns=quoted, batch=batch):
            # One UPDATE per column and batch, from a VALUES list of (new, key, old).
            writes: dict[str, list[tuple]] = {column: [] for column in quoted}
            for key, *values in rows:
                for column, old in zip(quoted, values, strict=True):
                    new = change(old) if old else None
                    if new is not None:
                        writes[column].append((new, key, old))
            with transaction.atomic(using=connection.alias):
                for column, triples in writes.items():
                    if not triples:
                        continue
                    cursor.execute(
                        f"UPDATE {table} AS t SET {column} = v.new "  # noqa: S608
                        f"FROM (VALUES {', '.join(['(%s, %s, %s)'] * len(triples))}) AS v (new, key, old) "
                        f"WHERE t.{pk} = v.key AND t.{column} = v.old",
                        [value for triple in triples for value in triple],
                    )
                    changed += cursor.rowcount
    return changed


def encrypt_plaintext(value: str) -> str | None:
    """For ``rewrite_columns``: plaintext → token; a value that already is a token is left."""
    return None if is_token(value) else encrypt(value)


def decrypt_token(value: str) -> str | None:
    """For ``rewrite_columns`` (reverse migrations): token → plaintext; plaintext is left."""
    return decrypt(value) if is_token(value) else None


def rotate_if_needed(value: str) -> str | None:
    """For ``rewrite_columns``: a token not under the first key → re-encrypted with it."""
    return rotate(value) if needs_rotation(value) else None

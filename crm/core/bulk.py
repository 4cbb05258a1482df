"""Writing many rows at once without building a model object per row."""
from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, models
from django.db.models.expressions import RawSQL
from psycopg.types.json import Jsonb


def insert_each(model, column: str, ids, *, returning: tuple[str, ...] = (), **values) -> list[tuple]:
    """One row of `model` per id in `ids` (stored in `column`), every other column the same: `values`,
    or the field's default. A single INSERT … SELECT unnest(ids), for imports and bulk actions where
    building and sending thousands of objects would cost more than the write. Returns the `returning`
    columns of the new rows."""
    ids = list(ids)
    if not ids:
        return []
    columns, selects, params = [model._meta.get_field(column).column], ["unnest(%s::bigint[])"], [int_array(ids)]
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname == column or field.name == column:
            continue
        value = values.pop(field.attname, values.pop(field.name, None)) if (
            field.attname in values or field.name in values) else field.get_default()
        if hasattr(value, "pk"):
            value = value.pk
        columns.append(field.column)
        selects.append(f"%s::{field.cast_db_type(connection)}")
        params.append(field.get_db_prep_save(value, connection))
    if values:
        raise TypeError(f"{model.__name__} has no fields {sorted(values)}")
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) SELECT {}".format(
        quote(model._meta.db_table), ", ".join(quote(c) for c in columns), ", ".join(selects))
    if returning:
        sql += " RETURNING " + ", ".join(quote(model._meta.get_field(name).column) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else []


def copy_insert(model, columns: list[str], rows, **constants) -> list[int]:
    """Insert `rows` (sequences of values for `columns`, attnames) into `model`'s table through COPY and
    return their primary keys. Only the columns that differ between rows travel through COPY, into a
    temporary table; one INSERT … SELECT adds the columns that are the same for every row (`constants`,
    else the field's default) and the keys from the table's sequence."""
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    names, selects, params = [], [], []
    for name, field in fields.items():
        if field.primary_key:
            continue
        names.append(quote(field.column))
        if name in columns:
            selects.append(quote(field.column))
        else:
            value = constants.pop(name) if name in constants else field.get_default()
            selects.append(f"%s::{field.cast_db_type(connection)}")
            params.append(field.get_db_prep_save(value, connection))
    if constants:
        raise TypeError(f"{model.__name__} has no fields {sorted(constants)}")
    with connection.cursor() as cursor, _copied(cursor, model, columns, rows) as temp:
        cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "
                       f"SELECT {', '.join(selects)} FROM {temp} RETURNING {quote(model._meta.pk.column)}", params)
        return [pk for (pk,) in cursor.fetchall()]


def copy_update(model, columns: list[str], rows, **constants) -> None:
    """Update many rows of `model` through COPY: `rows` are sequences of values for `columns` (attnames),
    the first of which is the primary key, one row per key. Each row's other columns are written, and
    `constants` (the same for every row). One UPDATE … FROM a temporary table, where Django's
    bulk_update builds a CASE per column and row (20,000 leads: 48 s)."""
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    table, pk = quote(model._meta.db_table), quote(fields[columns[0]].column)
    sets = [f"{quote(fields[name].column)} = t.{quote(fields[name].column)}" for name in columns[1:]]
    params = []
    for name, value in constants.items():
        sets.append(f"{quote(fields[name].column)} = %s::{fields[name].cast_db_type(connection)}")
        params.append(fields[name].get_db_prep_save(value, connection))
    with connection.cursor() as cursor, _copied(cursor, model, columns, rows) as temp:
        cursor.execute(f"UPDATE {table} SET {', '.join(sets)} FROM {temp} t WHERE {table}.{pk} = t.{pk}", params)


@contextmanager
def _copied(cursor, model, columns: list[str], rows):
    """A temporary table of `columns` (typed as in `model`'s table) filled with `rows` through COPY."""
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    json_at = [i for i, name in enumerate(columns) if isinstance(fields[name], models.JSONField)]
    temp = quote(f"copy_{model._meta.db_table}")
    copied = ", ".join(quote(fields[name].column) for name in columns)
    cursor.execute(f"DROP TABLE IF EXISTS {temp}")
    cursor.execute(f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT {copied} FROM "
                   f"{quote(model._meta.db_table)} WITH NO DATA")
    with cursor.cursor.copy(f"COPY {temp} ({copied}) FROM STDIN") as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = Jsonb(row[i])
            copy.write_row(row)
    yield temp
    cursor.execute(f"DROP TABLE {temp}")


def pk_in(model, ids) -> RawSQL:
    """A filter for `model.objects.filter(...)`: primary key among `ids`, as one array parameter (Django's
    pk__in sends one parameter per id, which costs more than the query for tens of thousands)."""
    column = f"{connection.ops.quote_name(model._meta.db_table)}.{connection.ops.quote_name(model._meta.pk.column)}"
    return RawSQL(f"{column} = ANY(%s::bigint[])", [int_array(ids)], output_field=models.BooleanField())


def int_array(ids) -> str:
    """A PostgreSQL array literal of integers, to pass as one parameter cast with ::bigint[]: psycopg's
    client-side binding quotes a Python list element by element, which costs more than the query."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


TEXT_SEPARATOR = "\x1f"  # ASCII unit separator: never part of an email, phone or name
# In a sub-select the planner cannot fold the array into a constant and size it: with 20,000 keys it would
# pick a parallel scan of the whole table over the index.
TEXT_ARRAY_PARAM = "(SELECT string_to_array(%s, chr(31)))::text[]"


def text_array(values) -> str:
    """One parameter for TEXT_ARRAY_PARAM: many strings at the cost of one (see int_array)."""
    return TEXT_SEPARATOR.join(v.replace(TEXT_SEPARATOR, "") for v in values)

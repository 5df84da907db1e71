#!/usr/bin/env python3
"""Writes a sqllogictest file whose expected results come from a reference server.

QuartzDB's .slt expectations must not be copied from QuartzDB's own output. This script runs
each statement of a spec file against PostgreSQL (or pgvector served by PGlite, see
docs/vector.md) and records what that server answered: rows in text format, or the SQLSTATE and
message of the error.

    python3 tools/oracle/slt_from_oracle.py SPEC.sql OUT.slt --dsn "host=127.0.0.1 port=55450 user=postgres"

Spec format: statements end with `;` at the end of a line; `-- comment` lines before a statement
are copied into the output; a statement preceded by `-- rowsort` is recorded with rowsort.
Needs psycopg 3.
"""
import argparse
import re

import psycopg


def statements(text):
    comments, lines, rowsort = [], [], False
    for line in text.splitlines():
        stripped = line.strip()
        if not lines and stripped.startswith("--"):
            if stripped == "-- rowsort":
                rowsort = True
            else:
                comments.append(stripped[2:].strip())
            continue
        if not lines and not stripped:
            if comments:
                yield comments, None, False
                comments = []
            continue
        lines.append(line)
        if stripped.endswith(";"):
            yield comments, "\n".join(lines).rstrip().rstrip(";"), rowsort
            comments, lines, rowsort = [], [], False


def value(v):
    if v is None:
        return "NULL"
    s = v.decode()
    return "(empty)" if s == "" else s


def escape(message):
    """Escapes regex metacharacters only (Rust's regex crate refuses other escapes)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", message)


def record(conn, sql, rowsort):
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            res = cur.pgresult
            if cur.description is None:
                return f"statement ok\n{sql}\n"
            rows = [[value(res.get_value(r, c)) for c in range(res.nfields)] for r in range(res.ntuples)]
            if rowsort:
                rows.sort()  # sqllogictest sorts the actual rows and compares them as written
            kind = "query " + "T" * res.nfields + (" rowsort" if rowsort else "")
            body = "\n".join(" ".join(r) for r in rows)
            return f"{kind}\n{sql}\n----\n{body}\n" if rows else f"{kind}\n{sql}\n----\n"
    except psycopg.Error as e:
        message = e.diag.message_primary or str(e)
        return f"statement error {e.sqlstate}: {escape(message)}\n{sql}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("out")
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--header", default="")
    args = ap.parse_args()
    out = []
    if args.header:
        out.append("\n".join(f"# {l}" for l in args.header.splitlines()) + "\n")
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for comments, sql, rowsort in statements(open(args.spec).read()):
            block = "".join(f"# {c}\n" for c in comments)
            if sql is not None:
                block += record(conn, sql, rowsort)
            out.append(block)
    with open(args.out, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()

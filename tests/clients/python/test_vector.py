"""Python drivers against a running QuartzDB: psycopg 3, asyncpg and SQLAlchemy with pgvector's
client library, vectors and the transactions these drivers open by default; psycopg2 and pg8000
with ordinary types.

Run by tests/e2e/clients.rs (which starts the server) as
    python test_vector.py "host=127.0.0.1 port=N user=quartz dbname=quartz"
Each check states what a pgvector application does; values are compared with numpy's.
"""
import asyncio
import sys
import traceback

import numpy as np

DSN = sys.argv[1]
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def as_np(v):
    """pgvector-python returns its own Vector type from psycopg; numpy arrays from asyncpg."""
    return v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)


def l2(a, b):
    return float(np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)))


@check
def psycopg_register_vector_binary_and_text():
    import psycopg
    from pgvector.psycopg import register_vector

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)  # looks vector (and bit) up with TypeInfo.fetch, in a transaction
        conn.execute("DROP TABLE IF EXISTS py_items")
        conn.execute("CREATE TABLE py_items (id bigserial PRIMARY KEY, category int, embedding vector(3))")
        rows = [np.array([1, 2, 3], dtype=np.float32), np.array([4.5, -5, 6.25]), np.array([0.1, 0.2, 0.3])]
        # Binary parameters (numpy → pgvector's send format) ...
        with conn.cursor() as cur:
            for i, v in enumerate(rows):
                cur.execute("INSERT INTO py_items (category, embedding) VALUES (%s, %s)", (i % 2, v), binary=True)
        # ... and text parameters.
        conn.execute("INSERT INTO py_items (category, embedding) VALUES (%s, %s)", (1, np.array([7, 8, 9])))
        query = np.array([1, 1, 1], dtype=np.float32)
        for binary in (True, False):
            with conn.cursor(binary=binary) as cur:
                cur.execute("SELECT id, embedding, embedding <-> %s AS d FROM py_items ORDER BY embedding <-> %s LIMIT 3", (query, query))
                got = cur.fetchall()
            stored = rows + [np.array([7, 8, 9])]
            expect = sorted(range(4), key=lambda i: l2(stored[i], query))[:3]
            assert [r[0] - 1 for r in got] == expect, (binary, got)
            for id_, emb, d in got:
                emb = as_np(emb)
                assert emb.dtype == np.float32, emb.dtype
                assert np.array_equal(emb, np.asarray(stored[id_ - 1], dtype=np.float32)), (emb, stored[id_ - 1])
                assert abs(d - l2(stored[id_ - 1], query)) < 1e-6, (d, l2(stored[id_ - 1], query))
        # Filtered search with an untyped parameter compared with the vector column.
        cur = conn.execute("SELECT id FROM py_items WHERE category = %s ORDER BY embedding <=> %s LIMIT 5", (1, query))
        stored = rows + [np.array([7, 8, 9])]
        cos = lambda v: 1 - np.dot(v, query) / (np.linalg.norm(v) * np.linalg.norm(query))
        expect = sorted([2, 4], key=lambda i: cos(np.asarray(stored[i - 1], dtype=np.float32)))
        assert [r[0] for r in cur.fetchall()] == expect, "category 1 holds rows 2 and 4"
        avg = conn.execute("SELECT avg(embedding) FROM py_items WHERE category = 0").fetchone()[0]
        assert np.allclose(as_np(avg), (rows[0] + rows[2].astype(np.float32)) / 2), avg
        # Errors keep pgvector's SQLSTATE.
        try:
            conn.execute("INSERT INTO py_items (embedding) VALUES (%s)", (np.array([1.0, 2.0]),))
            raise AssertionError("a 2-dimensional vector went into vector(3)")
        except psycopg.errors.DataException as e:
            assert e.sqlstate == "22000" and "expected 3 dimensions, not 2" in str(e), e


@check
def psycopg_copy_in_binary_and_text_with_vectors():
    """psycopg's Copy object: write_row in binary (pgvector's binary dumper) and text, rows() back."""
    import psycopg
    from pgvector.psycopg import register_vector

    with psycopg.connect(DSN, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS py_copy")
        conn.execute("CREATE TABLE py_copy (id int PRIMARY KEY, name text, embedding vector(3))")
        vectors = [np.array([i, i / 2, -i], dtype=np.float32) for i in range(500)]
        with conn.cursor() as cur:
            with cur.copy("COPY py_copy (id, name, embedding) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "text", "vector"])
                for i, v in enumerate(vectors[:250]):
                    copy.write_row((i, f"b{i}", v))
            with cur.copy("COPY py_copy (id, name, embedding) FROM STDIN") as copy:
                for i, v in enumerate(vectors[250:], start=250):
                    copy.write_row((i, None if i == 300 else f"t{i}", v))
            with cur.copy("COPY (SELECT id, name, embedding FROM py_copy ORDER BY id) TO STDOUT (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "text", "vector"])
                got = list(copy.rows())
        assert len(got) == 500, len(got)
        assert got[3][:2] == (3, "b3") and got[300][:2] == (300, None), (got[3], got[300])
        for i, (_, _, v) in enumerate(got):
            assert np.array_equal(as_np(v), vectors[i]), (i, v)


@check
def psycopg_bit_strings_and_hamming_distance():
    import psycopg
    from pgvector import Bit
    from pgvector.psycopg import register_vector

    with psycopg.connect(DSN, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS py_bits")
        conn.execute("CREATE TABLE py_bits (id int, b bit(4))")
        for i, bits in enumerate(["1010", "0110", "1111"]):
            conn.execute("INSERT INTO py_bits VALUES (%s, %s)", (i, Bit(bits)), binary=(i % 2 == 0))
        q = Bit("1000")
        rows = conn.execute("SELECT id, b, b <~> %s FROM py_bits ORDER BY b <~> %s, id", (q, q)).fetchall()
        # psycopg has no loader for bit: results come back as text, as they do from PostgreSQL.
        assert [tuple(r) for r in rows] == [(0, "1010", 1), (1, "0110", 3), (2, "1111", 3)], rows
        quantized = conn.execute("SELECT binary_quantize(%s::vector)", (np.array([0.5, -1, 2]),)).fetchone()[0]
        assert quantized == "101", quantized


@check
def psycopg_type_info_for_missing_types_is_none():
    import psycopg
    from psycopg.types import TypeInfo

    with psycopg.connect(DSN) as conn:  # not autocommit: the lookup runs inside BEGIN … ROLLBACK
        assert TypeInfo.fetch(conn, "hstore") is None
        info = TypeInfo.fetch(conn, "vector")
        assert (info.name, info.oid, info.array_oid, info.regtype) == ("vector", 16385, 16386, "vector"), vars(info)
        conn.rollback()


@check
def psycopg_timestamps_in_the_session_zone_binary_and_text():
    import datetime as dt

    import psycopg

    utc = dt.timezone.utc
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'Europe/Berlin'")
        conn.execute("DROP TABLE IF EXISTS py_events")
        conn.execute("CREATE TABLE py_events (id int, at timestamptz)")
        # A str parameter goes out untyped: the server reads it in the session zone (+02 in June).
        conn.execute("INSERT INTO py_events VALUES (1, %s)", ("2024-06-01 12:00",))
        conn.execute("INSERT INTO py_events VALUES (2, %s)", (dt.datetime(2024, 6, 1, 10, 30, 0, 250000, tzinfo=utc),))
        for binary in (False, True):
            rows = conn.cursor(binary=binary).execute("SELECT id, at FROM py_events ORDER BY id").fetchall()
            assert [r[1].astimezone(utc) for r in rows] == [dt.datetime(2024, 6, 1, 10, 0, tzinfo=utc), dt.datetime(2024, 6, 1, 10, 30, 0, 250000, tzinfo=utc)], (binary, rows)
        # PostgreSQL sends infinity as the largest value, which Python cannot hold (never as NULL).
        try:
            conn.cursor(binary=True).execute("SELECT 'infinity'::timestamptz").fetchall()
            raise AssertionError("infinity came back as a value")
        except psycopg.DataError:
            pass
        assert conn.execute("SELECT 'infinity'::timestamptz::text").fetchone()[0] == "infinity"


@check
def asyncpg_register_vector_binary():
    import asyncpg
    from pgvector.asyncpg import register_vector

    async def main():
        conn = await asyncpg.connect(dsn_url())
        try:
            await register_vector(conn)  # binary codec for vector, found in pg_type/pg_namespace
            await conn.execute("DROP TABLE IF EXISTS apg_items")
            await conn.execute("CREATE TABLE apg_items (id int PRIMARY KEY, embedding vector(2))")
            data = [(1, np.array([1.5, 2.0])), (2, np.array([-3.0, 4.0])), (3, np.array([0.0, 0.5]))]
            for id_, v in data:
                await conn.execute("INSERT INTO apg_items VALUES ($1, $2)", id_, v)
            q = np.array([0.0, 0.0], dtype=np.float32)
            rows = await conn.fetch("SELECT id, embedding, embedding <-> $1 AS d FROM apg_items ORDER BY embedding <-> $1 LIMIT 2", q)
            assert [r["id"] for r in rows] == [3, 1], rows
            assert np.array_equal(as_np(rows[1]["embedding"]), np.array([1.5, 2.0], dtype=np.float32)), rows[1]
            assert abs(rows[1]["d"] - 2.5) < 1e-9, rows[1]["d"]
        finally:
            await conn.close()

    asyncio.run(main())


@check
def sqlalchemy_vector_column():
    from pgvector.sqlalchemy import Vector
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select

    engine = create_engine("postgresql+psycopg://" + dsn_url().split("://", 1)[1], isolation_level="AUTOCOMMIT")
    meta = MetaData()
    items = Table("sa_items", meta, Column("id", Integer, primary_key=True), Column("embedding", Vector(3)))
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_items")
        meta.create_all(conn, checkfirst=False)
        conn.execute(insert(items), [{"id": 1, "embedding": [1, 2, 3]}, {"id": 2, "embedding": np.array([3, 2, 1])}, {"id": 3, "embedding": [1, 1, 1]}])
        q = [1, 2, 2]
        for distance, order in [
            (items.c.embedding.l2_distance(q), [1, 3, 2]),
            (items.c.embedding.max_inner_product(q), [1, 2, 3]),
            (items.c.embedding.cosine_distance(q), [1, 3, 2]),
            (items.c.embedding.l1_distance(q), [1, 3, 2]),
        ]:
            rows = conn.execute(select(items.c.id, distance.label("d")).order_by(distance).limit(3)).all()
            assert [r.id for r in rows] == order, (str(distance), rows)
        emb = conn.execute(select(items.c.embedding).where(items.c.id == 2)).scalar_one()
        assert np.array_equal(as_np(emb), np.array([3, 2, 1], dtype=np.float32)), emb


@check
def sqlalchemy_inspector_reflects_keys_and_schemas():
    """SQLAlchemy's Inspector and MetaData.reflect: what Alembic's autogenerate reads."""
    from sqlalchemy import MetaData, create_engine, inspect

    engine = create_engine("postgresql+psycopg://" + dsn_url().split("://", 1)[1], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_keyed")
        conn.exec_driver_sql("CREATE TABLE sa_keyed (a int, b text, c text UNIQUE, d varchar(20) NOT NULL DEFAULT 'x', n serial, PRIMARY KEY (b, a))")
        conn.exec_driver_sql("CREATE INDEX sa_keyed_d ON sa_keyed (d)")
        conn.exec_driver_sql("COMMENT ON TABLE sa_keyed IS 'keyed rows'")
        conn.exec_driver_sql("COMMENT ON COLUMN sa_keyed.d IS 'dee'")
    insp = inspect(engine)
    assert insp.get_table_comment("sa_keyed") == {"text": "keyed rows"}, insp.get_table_comment("sa_keyed")
    assert [c.get("comment") for c in insp.get_columns("sa_keyed")] == [None, None, None, "dee", None]
    columns = [(c["name"], str(c["type"]), c["nullable"], c["default"], c["autoincrement"]) for c in insp.get_columns("sa_keyed")]
    assert columns == [
        ("a", "INTEGER", False, None, False),
        ("b", "TEXT", False, None, False),
        ("c", "TEXT", True, None, False),
        ("d", "VARCHAR(20)", False, "'x'", False),
        ("n", "INTEGER", False, "nextval('public.sa_keyed_n_seq')", True),
    ], columns
    indexes = [(i["name"], i["unique"], i["column_names"]) for i in insp.get_indexes("sa_keyed")]
    assert indexes == [("sa_keyed_c_key", True, ["c"]), ("sa_keyed_d", False, ["d"])], indexes
    meta = MetaData()
    meta.reflect(engine, only=["sa_keyed"])
    table = meta.tables["sa_keyed"]
    assert [c.name for c in table.primary_key.columns] == ["b", "a"], table.primary_key
    assert sorted(i.name for i in table.indexes) == ["sa_keyed_d"], table.indexes
    # An identity column's options arrive as a dict (json through a CASE).
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_ident")
        conn.exec_driver_sql("CREATE TABLE sa_ident (n bigint GENERATED ALWAYS AS IDENTITY, v text)")
    meta = MetaData()
    meta.reflect(engine, only=["sa_ident"])
    identity = meta.tables["sa_ident"].c.n.identity
    assert identity is not None and identity.always and identity.start == 1 and identity.increment == 1, identity
    # create_all sends COMMENT ON for Table(comment=...) and Column(comment=...); reflect reads them back.
    from sqlalchemy import Column, Integer, Table

    made = MetaData()
    Table("sa_commented", made, Column("id", Integer, primary_key=True, comment="the key"), comment="described")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_commented")
    made.create_all(engine)
    meta = MetaData()
    meta.reflect(engine, only=["sa_commented"])
    table = meta.tables["sa_commented"]
    assert table.comment == "described" and table.c.id.comment == "the key", (table.comment, table.c.id.comment)
    assert "public" in insp.get_schema_names() and "pg_catalog" not in insp.get_schema_names(), insp.get_schema_names()
    pk = insp.get_pk_constraint("sa_keyed")
    assert pk["constrained_columns"] == ["b", "a"] and pk["name"] == "sa_keyed_pkey", pk
    uniques = insp.get_unique_constraints("sa_keyed")
    assert [(u["name"], u["column_names"]) for u in uniques] == [("sa_keyed_c_key", ["c"])], uniques
    assert insp.get_foreign_keys("sa_keyed") == []
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_ref")
        conn.exec_driver_sql("CREATE TABLE sa_ref (id int PRIMARY KEY, kb text, ka int, FOREIGN KEY (kb, ka) REFERENCES sa_keyed (b, a) DEFERRABLE INITIALLY DEFERRED)")
    fks = inspect(engine).get_foreign_keys("sa_ref")
    want = {"name": "sa_ref_kb_ka_fkey", "constrained_columns": ["kb", "ka"], "referred_schema": None, "referred_table": "sa_keyed", "referred_columns": ["b", "a"]}
    assert len(fks) == 1 and {k: fks[0][k] for k in want} == want and fks[0]["options"] == {"initially": "DEFERRED", "deferrable": True}, fks
    assert insp.get_table_options("sa_keyed") == {}, insp.get_table_options("sa_keyed")


@check
def psycopg_default_transactions_commit_and_roll_back():
    """psycopg's default: every statement runs in a transaction the application ends."""
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS py_orders")
        admin.execute("CREATE TABLE py_orders (id int PRIMARY KEY, qty int NOT NULL)")
        with psycopg.connect(DSN) as conn:
            conn.execute("INSERT INTO py_orders VALUES (1, 5)")
            assert admin.execute("SELECT count(*) FROM py_orders").fetchone()[0] == 0, "not visible before commit"
            conn.commit()
            assert admin.execute("SELECT count(*) FROM py_orders").fetchone()[0] == 1
            conn.execute("UPDATE py_orders SET qty = 0")
            conn.rollback()
            assert admin.execute("SELECT qty FROM py_orders").fetchone()[0] == 5
            # A failed statement inside conn.transaction() rolls back that block only.
            with conn.transaction():
                conn.execute("INSERT INTO py_orders VALUES (2, 1)")
                try:
                    with conn.transaction():  # a SAVEPOINT
                        conn.execute("INSERT INTO py_orders VALUES (3, 1)")
                        conn.execute("INSERT INTO py_orders VALUES (1, 1)")
                except psycopg.errors.UniqueViolation:
                    pass
            conn.commit()
        ids = [r[0] for r in admin.execute("SELECT id FROM py_orders ORDER BY id").fetchall()]
        assert ids == [1, 2], ids


@check
def psycopg_named_cursor_streams_rows():
    """A server-side cursor, as psycopg's named cursors (and SQLAlchemy's yield_per) use one."""
    import psycopg

    with psycopg.connect(DSN) as conn:
        with conn.cursor(name="big") as cur:
            cur.itersize = 100
            cur.execute("SELECT i, i * 2 AS twice FROM generate_series(1, 1000) i ORDER BY i")
            first = cur.fetchmany(3)
            assert first == [(1, 2), (2, 4), (3, 6)], first
            rest = list(cur)
            assert len(rest) == 997 and rest[-1] == (1000, 2000), rest[-1]
        # A scrollable one: psycopg's scroll() sends MOVE.
        with conn.cursor(name="back", scrollable=True) as cur:
            cur.execute("SELECT i FROM generate_series(1, 10) i ORDER BY i")
            assert cur.fetchmany(3) == [(1,), (2,), (3,)]
            cur.scroll(-2)
            assert cur.fetchone() == (2,)
            cur.scroll(5, mode="absolute")
            assert cur.fetchone() == (6,)
        conn.commit()


@check
def psycopg_terminated_session_is_told_why():
    """pg_terminate_backend ends another session, which learns it as PostgreSQL tells it: FATAL
    57P01, psycopg's AdminShutdown; its open transaction is rolled back."""
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute("DROP TABLE IF EXISTS term_t")
        admin.execute("CREATE TABLE term_t (id int)")
        victim = psycopg.connect(DSN)
        pid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
        victim.execute("INSERT INTO term_t VALUES (1)")
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        try:
            victim.execute("SELECT 1")
            raise AssertionError("the terminated session answered")
        except psycopg.errors.AdminShutdown as e:
            assert e.sqlstate == "57P01", e.sqlstate
        finally:
            victim.close()
        assert admin.execute("SELECT count(*) FROM term_t").fetchone() == (0,)


@check
def asyncpg_transactions_and_savepoints():
    import asyncpg

    async def main():
        conn = await asyncpg.connect(dsn_url())
        try:
            await conn.execute("DROP TABLE IF EXISTS apg_log; CREATE TABLE apg_log (n int)")
            async with conn.transaction():
                await conn.execute("INSERT INTO apg_log VALUES (1)")
                try:
                    async with conn.transaction():
                        await conn.execute("INSERT INTO apg_log VALUES (2)")
                        raise RuntimeError("undo the nested block")
                except RuntimeError:
                    pass
            try:
                async with conn.transaction():
                    await conn.execute("INSERT INTO apg_log VALUES (3)")
                    await conn.execute("SELECT 1 / 0")
            except asyncpg.exceptions.DivisionByZeroError:
                pass
            assert [r[0] for r in await conn.fetch("SELECT n FROM apg_log")] == [1]
        finally:
            await conn.close()

    asyncio.run(main())


@check
def sqlalchemy_orm_session_commit_and_rollback():
    from pgvector.sqlalchemy import Vector
    from sqlalchemy import ForeignKey, Integer, String, create_engine, exc, func, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class Doc(Base):
        __tablename__ = "sa_docs"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        title: Mapped[str] = mapped_column(String(50))
        embedding = mapped_column(Vector(2))
        chunks = relationship("Chunk", passive_deletes=True, foreign_keys="Chunk.doc_id")

    class Chunk(Base):
        __tablename__ = "sa_chunks"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        doc_id: Mapped[int] = mapped_column(ForeignKey("sa_docs.id", ondelete="CASCADE"))
        # The document a chunk was cited by, kept when that document goes.
        cited_by: Mapped[int | None] = mapped_column(ForeignKey("sa_docs.id", ondelete="SET NULL"), nullable=True)

    engine = create_engine("postgresql+psycopg://" + dsn_url().split("://", 1)[1])
    with engine.begin() as conn:  # DDL in a transaction, as migrations run it
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_chunks")
        conn.exec_driver_sql("DROP TABLE IF EXISTS sa_docs")
        Base.metadata.create_all(conn, checkfirst=False)
    with Session(engine) as session:
        session.add_all([Doc(id=1, title="a", embedding=[1, 0]), Doc(id=2, title="b", embedding=[0, 1])])
        session.commit()
        session.add(Doc(id=1, title="dup", embedding=[1, 1]))
        try:
            session.commit()
            raise AssertionError("a duplicate key must not commit")
        except exc.IntegrityError:
            session.rollback()
        doc = session.get(Doc, 2)
        doc.title = "b2"
        session.commit()
        nearest = session.scalars(select(Doc).order_by(Doc.embedding.l2_distance([0.1, 0.9])).limit(1)).one()
        assert (nearest.id, nearest.title) == (2, "b2"), (nearest.id, nearest.title)
        assert session.scalar(select(Doc.title).where(Doc.id == 1)) == "a"
        # ondelete="CASCADE" with passive_deletes: the database deletes the chunks.
        session.add_all([Doc(id=3, title="c", embedding=[1, 1]), Chunk(id=1, doc_id=3), Chunk(id=2, doc_id=3), Chunk(id=3, doc_id=1, cited_by=3)])
        session.commit()
        session.delete(session.get(Doc, 3))
        session.commit()
        assert session.scalar(select(func.count()).select_from(Chunk)) == 1
        # ondelete="SET NULL": the remaining chunk no longer names the deleted document.
        assert session.execute(select(Chunk.id, Chunk.cited_by)).all() == [(3, None)]


@check
def psycopg2_parameters_types_and_copy():
    """psycopg2 interpolates parameters into the SQL text client-side (quoted literals)."""
    import decimal, datetime, io, uuid
    import psycopg2
    import psycopg2.extras

    psycopg2.extras.register_uuid()
    conn = psycopg2.connect(DSN)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS pg2_items")
    cur.execute("CREATE TABLE pg2_items (id serial PRIMARY KEY, name text, price numeric(10,2), at timestamptz, tags text[], data jsonb, b bytea, u uuid)")
    at = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    u = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    cur.execute(
        "INSERT INTO pg2_items (name, price, at, tags, data, b, u) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        ("a'b", decimal.Decimal("1.50"), at, ["x", "y z"], psycopg2.extras.Json({"k": [1, 2]}), psycopg2.Binary(b"\x00\xff"), u),
    )
    assert cur.fetchone() == (1,)
    psycopg2.extras.execute_values(cur, "INSERT INTO pg2_items (name) VALUES %s", [("v1",), ("v2",)])
    cur.executemany("INSERT INTO pg2_items (name) VALUES (%s)", [("m1",), ("m2",)])
    cur.copy_expert("COPY pg2_items (name) FROM STDIN", io.StringIO("c1\nc2\n"))
    conn.commit()
    cur.execute("SELECT name, price, at, tags, data, b, u FROM pg2_items ORDER BY id")
    rows = cur.fetchall()
    assert len(rows) == 7 and [r[0] for r in rows[1:]] == ["v1", "v2", "m1", "m2", "c1", "c2"], rows
    name, price, got_at, tags, data, b, got_u = rows[0]
    assert (name, price, got_at, tags, data, bytes(b), got_u) == ("a'b", decimal.Decimal("1.50"), at, ["x", "y z"], {"k": [1, 2]}, b"\x00\xff", u), rows[0]
    try:
        cur.execute("INSERT INTO pg2_items (id, name) VALUES (1, 'dup')")
        raise AssertionError("a duplicate key went in")
    except psycopg2.errors.UniqueViolation:
        conn.rollback()
    named = conn.cursor("pg2_named")
    named.execute("SELECT id FROM pg2_items ORDER BY id")
    assert named.fetchmany(2) == [(1,), (2,)]
    named.close()
    conn.commit()
    conn.close()


@check
def pg8000_native_and_dbapi():
    """pg8000 (pure Python) sends typed parameters in text format over the extended protocol."""
    import decimal, datetime, uuid
    import pg8000.dbapi
    import pg8000.native

    parts = dict(p.split("=", 1) for p in DSN.split())
    conn = pg8000.native.Connection(parts["user"], host=parts["host"], port=int(parts["port"]), database=parts["dbname"])
    conn.run("DROP TABLE IF EXISTS p8_items")
    conn.run("CREATE TABLE p8_items (id serial PRIMARY KEY, name text, price numeric(10,2), at timestamptz, d date, ok bool, u uuid, f float8, j jsonb, tags text[], iv interval, b bytea)")
    values = dict(
        n="x", p=decimal.Decimal("1.25"), a=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), d=datetime.date(2024, 1, 2), o=True,
        u=uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), f=1.5, j={"a": 1}, t=["a", "b"], i=datetime.timedelta(days=1, seconds=5), b=b"\x00\x01",
    )
    assert conn.run("INSERT INTO p8_items (name, price, at, d, ok, u, f, j, tags, iv, b) VALUES (:n, :p, :a, :d, :o, :u, :f, :j, :t, :i, :b) RETURNING id", **values) == [[1]]
    row = conn.run("SELECT name, price, at, d, ok, u, f, j, tags, iv, b FROM p8_items WHERE name = :n", n="x")[0]
    assert row == [values[k] for k in "npadoufjtib"], row
    assert conn.run("SELECT :x::int + 1", x=5) == [[6]]
    conn.close()
    db = pg8000.dbapi.connect(parts["user"], host=parts["host"], port=int(parts["port"]), database=parts["dbname"])
    cur = db.cursor()
    cur.executemany("INSERT INTO p8_items (name) VALUES (%s)", [("a",), ("b",)])
    db.commit()
    cur.execute("SELECT name FROM p8_items ORDER BY id")
    assert [r[0] for r in cur.fetchall()] == ["x", "a", "b"]
    try:
        cur.execute("SELECT * FROM nosuch")
        raise AssertionError("a missing table answered")
    except pg8000.dbapi.DatabaseError as e:
        assert e.args[0]["C"] == "42P01", e
        db.rollback()
    db.close()


@check
def django_migrate_orm_and_foreign_keys():
    """Django's migrate (contenttypes, auth and an app with a foreign key and a CHECK, then a
    migration dropping a unique constraint and an index), its ORM, foreign key and CHECK
    violations as IntegrityError, deferred foreign keys (loaddata of a fixture with a forward
    reference), and its introspection (constraints, sequences, inspectdb)."""
    import decimal
    import io
    import django
    from django.conf import settings

    parts = dict(p.split("=", 1) for p in DSN.split())
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": parts["dbname"], "USER": parts["user"], "HOST": parts["host"], "PORT": parts["port"]}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_shop"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()
    from django.core.management import call_command
    from django.db import IntegrityError, connection, transaction

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    from django_shop.models import Category, Item

    User.objects.create_user("ada", password="secret")
    assert User.objects.get(username="ada").check_password("secret")
    tools = Category.objects.create(name="tools")
    Item.objects.create(name="hammer", price="9.99", data={"w": 1}, category=tools)
    Item.objects.create(name="saw", price="19.50", category=tools)
    got = list(Item.objects.filter(category__name="tools").order_by("name").values_list("name", "price", "category__name"))
    assert got == [("hammer", decimal.Decimal("9.99"), "tools"), ("saw", decimal.Decimal("19.50"), "tools")], got
    try:
        with transaction.atomic():
            Item.objects.create(name="orphan", category_id=999)
        raise AssertionError("a row referencing a missing category went in")
    except IntegrityError:
        pass
    try:
        with transaction.atomic():
            Category.objects.filter(id=tools.id)._raw_delete(Category.objects.db)
        raise AssertionError("a referenced category was deleted")
    except IntegrityError:
        pass
    try:
        with transaction.atomic():
            Item.objects.create(name="debt", stock=-1)
        raise AssertionError("a negative PositiveIntegerField went in")
    except IntegrityError as e:
        assert "django_shop_item_stock_check" in str(e), e
    # Deferred foreign keys are checked at COMMIT: a fixture may list a row before the one it
    # references, as may a transaction; one still dangling at COMMIT fails it.
    call_command("loaddata", "forward", verbosity=0)
    assert Item.objects.get(pk=100).category.name == "carving"
    with transaction.atomic():
        Item.objects.create(name="early", category_id=4242)
        Category.objects.create(id=4242, name="late")
    try:
        with transaction.atomic():
            Item.objects.create(name="dangling", category_id=4343)
        raise AssertionError("a dangling key was committed")
    except IntegrityError as e:
        assert "is not present in table" in str(e), e
    Item.objects.filter(pk=100).delete()
    Item.objects.filter(name="early").delete()
    Category.objects.filter(pk__in=[200, 4242]).delete()
    introspection = connection.introspection
    with connection.cursor() as cur:
        assert introspection.get_relations(cur, "django_shop_item") == {"category_id": ("id", "django_shop_category")}
        assert introspection.get_primary_key_column(cur, "django_shop_item") == "id"
        constraints = introspection.get_constraints(cur, "django_shop_item")
        assert constraints["django_shop_item_pkey"]["primary_key"] and constraints["django_shop_item_pkey"]["columns"] == ["id"], constraints
        assert [(c["columns"], c["foreign_key"]) for c in constraints.values() if c["foreign_key"]] == [(["category_id"], ("django_shop_category", "id"))], constraints
        assert [c["columns"] for c in constraints.values() if c["check"]] == [["stock"]], constraints
        # 0002 dropped the index on name; the foreign key's index stays.
        assert sorted(c["columns"] for c in constraints.values() if c["index"]) == [["category_id"]], constraints
        assert not [c for c in introspection.get_constraints(cur, "django_shop_category").values() if c["unique"] and not c["primary_key"]]
        assert introspection.get_sequences(cur, "django_shop_item") == [{"table": "django_shop_item", "column": "id", "name": "django_shop_item_id_seq"}]
    out = io.StringIO()
    call_command("inspectdb", "django_shop_item", stdout=out)
    models_text = out.getvalue()
    assert "class DjangoShopItem(models.Model):" in models_text, models_text
    assert "category = models.ForeignKey('DjangoShopCategory', models.DO_NOTHING, blank=True, null=True)" in models_text, models_text
    # From the result columns' declared types and modifiers (RowDescription).
    assert "name = models.CharField(max_length=100)" in models_text, models_text
    assert "price = models.DecimalField(max_digits=10, decimal_places=2)" in models_text, models_text
    # TestCase's check of deferred constraints after each test.
    connection.check_constraints()
    assert Item.objects.count() == 2 and Category.objects.count() == 1


@check
def pgcli_completion_metadata():
    """pgcli's completion metadata, read on connect: schemas, tables, views, columns of tables
    and views with types and defaults, databases, types, functions, foreign keys and the name
    casing its generate_casing_file option reads (words of SQL function bodies: none here, as
    PostgreSQL answers when no SQL functions exist)."""
    from pgcli.pgexecute import PGExecute

    parts = dict(p.split("=", 1) for p in DSN.split())
    with psycopg_connect() as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS cli")
        conn.execute("DROP TABLE IF EXISTS cli.lines")
        conn.execute("DROP TABLE IF EXISTS cli.orders")
        conn.execute("CREATE TABLE cli.orders (id serial PRIMARY KEY, total numeric(10,2) DEFAULT 0, e vector(2))")
        conn.execute("CREATE TABLE cli.lines (n int, order_id int REFERENCES cli.orders, PRIMARY KEY (order_id, n))")
        conn.execute("CREATE OR REPLACE VIEW cli.big AS SELECT id, total FROM cli.orders WHERE total > 100")
    ex = PGExecute(parts["dbname"], parts["user"], None, parts["host"], int(parts["port"]), "")
    assert "cli" in ex.schemata() and parts["dbname"] in ex.databases()
    assert ("cli", "orders") in list(ex.tables())
    assert ("pg_catalog", "pg_tables") in list(ex.views())
    columns = [c for c in ex.table_columns() if c[:2] == ("cli", "orders")]
    assert columns == [
        ("cli", "orders", "id", "integer", True, "nextval('cli.orders_id_seq')"),
        ("cli", "orders", "total", "numeric", True, "0"),
        ("cli", "orders", "e", "vector", False, None),
    ], columns
    view_columns = [c[:4] for c in ex.view_columns() if c[0] == "cli"]
    assert view_columns == [("cli", "big", "id", "integer"), ("cli", "big", "total", "numeric")], view_columns
    assert ("public", "vector") in list(ex.datatypes())
    assert list(ex.functions()) == []
    assert list(ex.casing()) == []
    assert list(ex.search_path()) == ["pg_catalog", "public"]
    foreign_keys = [tuple(fk) for fk in ex.foreignkeys() if fk.childschema == "cli"]
    assert foreign_keys == [("cli", "orders", "id", "cli", "lines", "order_id")], foreign_keys


@check
def alembic_operations_and_autogenerate():
    """Alembic's migration operations (tables, columns, a foreign key, an index, nullability,
    a longer varchar, a server default, a unique constraint added and dropped), then
    autogenerate comparing the result with the models: no differences."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import Column, ForeignKey, Index, Integer, MetaData, Numeric, String, Table, create_engine, text

    engine = create_engine("postgresql+psycopg2://" + dsn_url().split("://", 1)[1])
    with engine.begin() as conn:
        for t in ("al_item", "al_cat"):
            conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
        op = Operations(MigrationContext.configure(conn))
        op.create_table("al_cat", Column("id", Integer, primary_key=True), Column("name", String(50), nullable=False, unique=True))
        op.create_table("al_item", Column("id", Integer, primary_key=True), Column("title", String(20)))
        op.add_column("al_item", Column("cat_id", Integer))
        op.create_foreign_key("al_item_cat_fk", "al_item", "al_cat", ["cat_id"], ["id"])
        op.create_index("al_item_title_idx", "al_item", ["title"])
        op.alter_column("al_item", "title", nullable=False, existing_type=String(20))
        op.alter_column("al_item", "title", type_=String(40), existing_type=String(20))
        op.alter_column("al_item", "cat_id", server_default="0")
        op.create_unique_constraint("al_item_title_key", "al_item", ["title"])
        op.drop_constraint("al_item_title_key", "al_item")
        op.add_column("al_item", Column("price", Numeric(10, 2)))
        op.drop_column("al_item", "price")
        models = MetaData()
        Table("al_cat", models, Column("id", Integer, primary_key=True), Column("name", String(50), nullable=False, unique=True))
        item = Table("al_item", models, Column("id", Integer, primary_key=True), Column("title", String(40), nullable=False), Column("cat_id", Integer, ForeignKey("al_cat.id", name="al_item_cat_fk"), server_default="0"))
        Index("al_item_title_idx", item.c.title)
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": lambda name, kind, parent: kind != "table" or name.startswith("al_")})
        diff = compare_metadata(context, models)
        assert diff == [], diff


def psycopg_connect():
    import psycopg

    return psycopg.connect(DSN, autocommit=True)


def dsn_url():
    parts = dict(p.split("=", 1) for p in DSN.split())
    return f"postgresql://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"


def main():
    passed, failed = 0, 0
    for fn in CHECKS:
        try:
            fn()
            passed += 1
            print(f"ok   {fn.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

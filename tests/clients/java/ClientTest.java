// The PostgreSQL JDBC driver (Debian's libpostgresql-jdbc-java) against a running QuartzDB.
// Run by tests/e2e/clients.rs: `java -cp postgresql.jar:. ClientTest jdbc:postgresql://127.0.0.1:N/quartz`.
// Each check states what a Java application does; it prints "N passed, M failed".
import java.sql.*;
import java.util.*;

public class ClientTest {
    interface Check { void run(Connection c) throws Exception; }

    static void expect(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    static final Map<String, Check> CHECKS = new LinkedHashMap<>();

    static {
        CHECKS.put("prepared_statements_and_types", c -> {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS j_items");
                s.execute("CREATE TABLE j_items (id bigserial PRIMARY KEY, name text NOT NULL, price numeric(10,2), qty int, at timestamptz, ok boolean)");
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO j_items (name, price, qty, at, ok) VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 7; i++) { // past the driver's prepareThreshold: server-side prepared, binary
                    p.setString(1, "item " + i);
                    p.setBigDecimal(2, new java.math.BigDecimal(i + ".25"));
                    p.setInt(3, i);
                    p.setTimestamp(4, Timestamp.from(java.time.Instant.parse("2024-01-01T10:00:00Z")));
                    p.setBoolean(5, i % 2 == 0);
                    expect(p.executeUpdate() == 1, "one row inserted");
                }
            }
            try (PreparedStatement p = c.prepareStatement("SELECT name, price, qty, at, ok FROM j_items WHERE qty > ? ORDER BY qty")) {
                p.setInt(1, 5);
                try (ResultSet r = p.executeQuery()) {
                    expect(r.next(), "a row");
                    expect(r.getString(1).equals("item 6"), "name " + r.getString(1));
                    expect(r.getBigDecimal(2).toString().equals("6.25"), "price " + r.getBigDecimal(2));
                    expect(r.getInt(3) == 6, "qty");
                    expect(r.getTimestamp(4).toInstant().toString().equals("2024-01-01T10:00:00Z"), "at " + r.getTimestamp(4).toInstant());
                    expect(r.getBoolean(5), "ok");
                    expect(r.next() && !r.next(), "two rows");
                }
            }
        });
        CHECKS.put("batches_and_transactions", c -> {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS j_acct");
                s.execute("CREATE TABLE j_acct (id int PRIMARY KEY, balance int)");
            }
            c.setAutoCommit(false);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO j_acct VALUES (?, ?)")) {
                for (int i = 1; i <= 100; i++) {
                    p.setInt(1, i);
                    p.setInt(2, 10);
                    p.addBatch();
                }
                int[] counts = p.executeBatch();
                expect(counts.length == 100, "100 batch results");
            }
            c.commit();
            try (Statement s = c.createStatement()) {
                s.executeUpdate("UPDATE j_acct SET balance = 0");
                c.rollback();
                Savepoint sp = c.setSavepoint();
                s.executeUpdate("DELETE FROM j_acct WHERE id <= 50");
                c.rollback(sp);
                try {
                    s.executeUpdate("INSERT INTO j_acct VALUES (1, 1)");
                    throw new AssertionError("a duplicate key must fail");
                } catch (SQLException e) {
                    expect("23505".equals(e.getSQLState()), "23505, got " + e.getSQLState());
                }
                c.rollback();
                try (ResultSet r = s.executeQuery("SELECT count(*), sum(balance) FROM j_acct")) {
                    r.next();
                    expect(r.getLong(1) == 100 && r.getLong(2) == 1000, "count " + r.getLong(1) + " sum " + r.getLong(2));
                }
            }
            c.commit();
            c.setAutoCommit(true);
        });
        CHECKS.put("vectors_as_pgobject", c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION IF NOT EXISTS vector");
                s.execute("DROP TABLE IF EXISTS j_docs");
                s.execute("CREATE TABLE j_docs (id int PRIMARY KEY, embedding vector(3))");
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO j_docs VALUES (?, ?)")) {
                float[][] vs = {{1, 1, 1}, {2, 2, 2}, {1, 1, 2}};
                for (int i = 0; i < vs.length; i++) {
                    org.postgresql.util.PGobject v = new org.postgresql.util.PGobject();
                    v.setType("vector");
                    v.setValue(Arrays.toString(vs[i]).replace(" ", ""));
                    p.setInt(1, i + 1);
                    p.setObject(2, v);
                    p.executeUpdate();
                }
            }
            try (PreparedStatement p = c.prepareStatement("SELECT id, embedding::text FROM j_docs ORDER BY embedding <-> ?::vector LIMIT 2")) {
                p.setString(1, "[1,1,1]");
                try (ResultSet r = p.executeQuery()) {
                    List<String> got = new ArrayList<>();
                    while (r.next()) got.add(r.getInt(1) + " " + r.getString(2));
                    expect(got.equals(List.of("1 [1,1,1]", "3 [1,1,2]")), "nearest " + got);
                }
            }
        });
        CHECKS.put("database_metadata_tables_and_columns", c -> {
            try (Statement s = c.createStatement()) {
                s.execute("COMMENT ON TABLE j_items IS 'for sale'");
                s.execute("COMMENT ON COLUMN j_items.price IS 'in euros'");
            }
            DatabaseMetaData md = c.getMetaData();
            expect(md.getDatabaseProductName().equals("PostgreSQL"), md.getDatabaseProductName());
            List<String> tables = new ArrayList<>();
            String remarks = null;
            try (ResultSet r = md.getTables(null, "public", "j_%", new String[] {"TABLE"})) {
                while (r.next()) {
                    tables.add(r.getString("TABLE_NAME"));
                    if (r.getString("TABLE_NAME").equals("j_items")) remarks = r.getString("REMARKS");
                }
            }
            expect(tables.containsAll(List.of("j_items", "j_acct", "j_docs")), "tables " + tables);
            expect("for sale".equals(remarks), "table remarks " + remarks);
            try (ResultSet r = md.getColumns(null, "public", "j_items", "price")) {
                expect(r.next() && "in euros".equals(r.getString("REMARKS")), "column remarks");
            }
            List<String> columns = new ArrayList<>();
            try (ResultSet r = md.getColumns(null, "public", "j_items", null)) {
                while (r.next()) columns.add(r.getString("COLUMN_NAME") + " " + r.getString("TYPE_NAME") + " " + r.getInt("DATA_TYPE"));
            }
            // As the driver reports them against PostgreSQL: a bigserial key, java.sql.Types codes.
            expect(columns.equals(List.of("id bigserial -5", "name text 12", "price numeric 2", "qty int4 4", "at timestamptz 93", "ok bool -7")), "columns " + columns);
        });
        CHECKS.put("database_metadata_keys_and_indexes", c -> {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS j_keyed");
                s.execute("CREATE TABLE j_keyed (a int, b text, c text UNIQUE, PRIMARY KEY (b, a))");
                s.execute("CREATE INDEX j_keyed_a ON j_keyed (a)");
            }
            DatabaseMetaData md = c.getMetaData();
            List<String> keys = new ArrayList<>();
            try (ResultSet r = md.getPrimaryKeys(null, "public", "j_keyed")) {
                while (r.next()) keys.add(r.getString("COLUMN_NAME") + " " + r.getInt("KEY_SEQ") + " " + r.getString("PK_NAME"));
            }
            expect(keys.equals(List.of("b 1 j_keyed_pkey", "a 2 j_keyed_pkey")), "primary key " + keys);
            List<String> indexes = new ArrayList<>();
            try (ResultSet r = md.getIndexInfo(null, "public", "j_keyed", false, false)) {
                while (r.next()) indexes.add(r.getString("INDEX_NAME") + " " + r.getBoolean("NON_UNIQUE") + " " + r.getInt("ORDINAL_POSITION") + " " + r.getString("COLUMN_NAME"));
            }
            expect(indexes.equals(List.of("j_keyed_c_key false 1 c", "j_keyed_pkey false 1 b", "j_keyed_pkey false 2 a", "j_keyed_a true 1 a")), "indexes " + indexes);
            // j_keyed has no foreign keys; the driver reads max_index_keys before asking.
            try (ResultSet r = md.getImportedKeys(null, "public", "j_keyed")) {
                expect(!r.next(), "no imported keys");
            }
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS j_ref");
                s.execute("CREATE TABLE j_ref (id int PRIMARY KEY, kb text, ka int, FOREIGN KEY (kb, ka) REFERENCES j_keyed (b, a))");
            }
            List<String> imported = new ArrayList<>();
            try (ResultSet r = md.getImportedKeys(null, "public", "j_ref")) {
                while (r.next()) imported.add(r.getString("PKTABLE_NAME") + "." + r.getString("PKCOLUMN_NAME") + " <- " + r.getString("FKCOLUMN_NAME") + " " + r.getInt("KEY_SEQ") + " " + r.getString("FK_NAME") + " " + r.getString("PK_NAME"));
            }
            expect(imported.equals(List.of("j_keyed.b <- kb 1 j_ref_kb_ka_fkey j_keyed_pkey", "j_keyed.a <- ka 2 j_ref_kb_ka_fkey j_keyed_pkey")), "imported " + imported);
        });
    }

    static {
        ToolReplay.register(CHECKS);
    }

    public static void main(String[] args) throws Exception {
        int passed = 0, failed = 0;
        for (Map.Entry<String, Check> e : CHECKS.entrySet()) {
            try (Connection c = DriverManager.getConnection(args[0], "quartz", "")) {
                e.getValue().run(c);
                passed++;
                System.out.println("ok   " + e.getKey());
            } catch (Throwable t) {
                failed++;
                System.out.println("FAIL " + e.getKey());
                t.printStackTrace(System.out);
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}

// The catalog queries DBeaver and Metabase send, replayed through the same JDBC driver they use
// (Debian's libpostgresql-jdbc-java), with the values they bind. The statements are those the
// tools' sources build for a PostgreSQL 15 server with default settings: DBeaver's
// PostgreDataSource/PostgreDatabase/PostgreSchema caches (connect, then opening a schema's
// tables, a table's columns, constraints and indexes), Metabase's postgres driver (connection
// setup, describe-database, describe-fields, describe-fks, field values). Every column is read
// with getObject, as the tools read them (which makes the driver look up any type it does not
// know, with its own catalog query). Run from ClientTest; "tools.items" is the table browsed.
import java.sql.*;
import java.util.*;

public class ToolReplay {
    static void expect(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    /// Every row of a query, each column read with getObject; binds are set as the tools set them.
    static List<Map<String, Object>> rows(Connection c, String sql, Object... binds) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < binds.length; i++) p.setObject(i + 1, binds[i]);
            List<Map<String, Object>> out = new ArrayList<>();
            try (ResultSet r = p.executeQuery()) {
                ResultSetMetaData md = r.getMetaData();
                while (r.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) row.put(md.getColumnLabel(i), r.getObject(i));
                    out.add(row);
                }
            }
            return out;
        }
    }

    static List<Object> column(List<Map<String, Object>> rows, String name) {
        List<Object> out = new ArrayList<>();
        for (Map<String, Object> r : rows) out.add(r.get(name));
        return out;
    }

    static Map<String, Object> find(List<Map<String, Object>> rows, String column, Object value) {
        for (Map<String, Object> r : rows) if (Objects.equals(String.valueOf(r.get(column)), String.valueOf(value))) return r;
        throw new AssertionError("no row with " + column + " = " + value + " in " + rows);
    }

    static void schema(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS tools CASCADE");
            s.execute("CREATE SCHEMA tools");
            s.execute("CREATE TABLE tools.owners (id serial PRIMARY KEY, name varchar(40) NOT NULL UNIQUE)");
            s.execute("CREATE TABLE tools.items (id bigserial PRIMARY KEY, owner_id int REFERENCES tools.owners (id) ON DELETE CASCADE, "
                + "title text NOT NULL DEFAULT 'untitled', price numeric(10,2) CHECK (price >= 0), code char(4), added timestamptz, e vector(3))");
            s.execute("CREATE INDEX items_title ON tools.items (title)");
            s.execute("COMMENT ON TABLE tools.items IS 'things for sale'");
            s.execute("COMMENT ON COLUMN tools.items.title IS 'what it is called'");
            s.execute("CREATE VIEW tools.cheap AS SELECT id, title FROM tools.items WHERE price < 10");
            s.execute("INSERT INTO tools.owners (name) VALUES ('ann'), ('bob')");
            s.execute("INSERT INTO tools.items (owner_id, title, price, code, added, e) VALUES "
                + "(1, 'pen', 1.50, 'P1', '2024-01-01 10:00+00', '[1,2,3]'), (2, 'lamp', 25, 'L2', '2024-01-02 11:00+00', NULL)");
        }
    }

    static final String TYPES = "SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description\n"
        + "FROM pg_catalog.pg_type t\nLEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem \n"
        + "LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid\nLEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid\n"
        + "WHERE t.typname IS NOT NULL\nAND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')";

    static void register(Map<String, ClientTest.Check> checks) {
        checks.put("dbeaver_connect_and_navigator", c -> {
            schema(c);
            try (Statement s = c.createStatement()) {
                s.execute("SET application_name = 'DBeaver 24.3.0 - Main <quartz>'");
            }
            // Connect: defaults, schemas, the database, settings, keywords, version, types.
            Map<String, Object> defaults = rows(c, "SELECT current_schema(),session_user").get(0);
            expect(defaults.get("current_schema").equals("public") && defaults.get("session_user").equals("quartz"), "defaults " + defaults);
            List<Map<String, Object>> namespaces = rows(c, "SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass\n ORDER BY nspname");
            expect(column(namespaces, "nspname").containsAll(List.of("information_schema", "pg_catalog", "public", "tools")), "namespaces " + namespaces);
            long tools = ((Number) find(namespaces, "nspname", "tools").get("oid")).longValue();
            expect(rows(c, "SHOW search_path").get(0).get("search_path").equals("\"$user\", public"), "search_path");
            Map<String, Object> db = rows(c, "SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname=?", "quartz").get(0);
            expect(db.get("datname").equals("quartz") && Boolean.TRUE.equals(db.get("datallowconn")), "database " + db);
            expect(rows(c, "select * from pg_catalog.pg_settings where name=?", "standard_conforming_strings").get(0).get("setting").equals("on"), "standard_conforming_strings");
            String keywords = c.getMetaData().getSQLKeywords(); // the driver asks pg_get_keywords()
            expect(Arrays.asList(keywords.split(",")).containsAll(List.of("analyze", "limit", "offset")), "keywords " + keywords);
            expect(rows(c, "SELECT version()").get(0).get("version").toString().startsWith("PostgreSQL 15"), "version");
            expect(rows(c, "SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1").isEmpty(), "pg_enum readable");
            expect(rows(c, "SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1").isEmpty(), "pg_class.reltype exists");
            List<Map<String, Object>> types = rows(c, TYPES);
            Map<String, Object> vector = find(types, "typname", "vector");
            expect("vector_in".equals(vector.get("typinput")) && "e".equals(vector.get("typstorage")), "vector type " + vector);
            expect("array_in".equals(find(types, "typname", "_int4").get("typinput")), "int4[] input function");
            expect(rows(c, "SELECT * FROM pg_catalog.pg_enum").isEmpty(), "no enums");
            // Tables folder of schema tools: relations (tables, views, sequences), then sizes.
            List<Map<String, Object>> relations = rows(c, "SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key \n"
                + "FROM pg_catalog.pg_class c\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass\n"
                + "WHERE c.relnamespace=? AND c.relkind not in ('i','I','c')", tools);
            Map<String, String> kinds = new TreeMap<>();
            for (Map<String, Object> r : relations) kinds.put((String) r.get("relname"), String.valueOf(r.get("relkind")));
            expect(kinds.equals(Map.of("cheap", "v", "items", "r", "items_id_seq", "S", "owners", "r", "owners_id_seq", "S")), "relations " + kinds);
            Map<String, Object> items = find(relations, "relname", "items");
            expect("things for sale".equals(items.get("description")), "table comment " + items.get("description"));
            long itemsOid = ((Number) items.get("oid")).longValue();
            List<Map<String, Object>> sizes = rows(c, "select c.oid,pg_catalog.pg_total_relation_size(c.oid) as total_rel_size,pg_catalog.pg_relation_size(c.oid) as rel_size\n"
                + "FROM pg_class c\nWHERE c.relnamespace=?", tools);
            expect(((Number) find(sizes, "oid", itemsOid).get("total_rel_size")).longValue() > 0, "items has a size " + sizes);
            // Table items: columns, constraints, indexes (and the access methods they name).
            List<Map<String, Object>> attributes = rows(c, "SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid\n"
                + "FROM pg_catalog.pg_attribute a\nINNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)\n"
                + "LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)\n"
                + "LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid\n"
                + "WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid=?\nORDER BY a.attnum", itemsOid);
            expect(column(attributes, "attname").equals(List.of("id", "owner_id", "title", "price", "code", "added", "e")), "columns " + column(attributes, "attname"));
            Map<String, Object> title = find(attributes, "attname", "title");
            expect("'untitled'".equals(title.get("def_value")) && "what it is called".equals(title.get("description")) && Boolean.TRUE.equals(title.get("attnotnull")), "title " + title);
            expect(((Number) find(attributes, "attname", "price").get("atttypmod")).intValue() == 655366, "numeric(10,2) typmod");
            List<Map<String, Object>> constraints = rows(c, "SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, null as consrc_copy\n"
                + "FROM pg_catalog.pg_constraint c\nINNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid\nLEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass\nWHERE c.conrelid=?\nORDER BY c.oid", itemsOid);
            Map<String, String> contypes = new TreeMap<>();
            for (Map<String, Object> r : constraints) contypes.put((String) r.get("conname"), String.valueOf(r.get("contype")));
            expect(contypes.equals(Map.of("items_owner_id_fkey", "f", "items_pkey", "p", "items_price_check", "c")), "constraints " + contypes);
            Map<String, Object> fk = find(constraints, "conname", "items_owner_id_fkey");
            expect("c".equals(String.valueOf(fk.get("confdeltype"))) && ((Number) fk.get("refnamespace")).longValue() == tools, "foreign key " + fk);
            List<Map<String, Object>> indexes = rows(c, "SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,"
                + "pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,"
                + "pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans\n"
                + "FROM pg_catalog.pg_index i\nINNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid\nINNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid\n"
                + "LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid\nWHERE  i.indrelid=? ORDER BY c.relname", itemsOid);
            expect(column(indexes, "relname").equals(List.of("items_pkey", "items_title")), "indexes " + column(indexes, "relname"));
            expect(Boolean.TRUE.equals(indexes.get(0).get("indisprimary")) && "3".equals(String.valueOf(indexes.get(1).get("keys"))), "index rows " + indexes);
            expect(column(rows(c, "SELECT am.oid,am.* FROM pg_catalog.pg_am am \nORDER BY am.oid"), "amname").contains("btree"), "access methods");
            long titleIndex = ((Number) indexes.get(1).get("indexrelid")).longValue();
            expect("title".equals(rows(c, "select pg_catalog.pg_get_indexdef(?, ?, true)", titleIndex, 1).get(0).get("pg_get_indexdef")), "index column");
            expect(rows(c, TYPES + "\nAND t.typnamespace=? ", tools).isEmpty(), "no types of its own in schema tools");
            // The data grid: rows with their source columns (the driver asks the catalog which
            // table and column each result column is, whether it is nullable or generated).
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT id, title, code, e FROM tools.items ORDER BY id")) {
                ResultSetMetaData md = r.getMetaData();
                PgResultSetMetaDataView view = new PgResultSetMetaDataView(md);
                expect(view.baseTable(1).equals("items") && view.baseColumn(2).equals("title") && view.baseSchema(1).equals("tools"), "source columns " + view);
                expect(md.isAutoIncrement(1) && !md.isAutoIncrement(2), "serial key is auto-increment");
                expect(md.isNullable(2) == ResultSetMetaData.columnNoNulls && md.isNullable(3) == ResultSetMetaData.columnNullable, "nullability");
                expect(r.next() && r.getString(3).equals("P1  ") && r.getObject(4).toString().equals("[1,2,3]"), "char(4) is blank-padded, a vector reads as pgvector prints it");
            }
        });
        // DBeaver's SQL editor autocompletion and "Find objects" dialog (PostgreStructureAssistant:
        // a name mask bound as text, schema OIDs as int8, LIMIT spelled out) and its Functions
        // folder (PostgreSchema.ProceduresCache).
        checks.put("dbeaver_autocompletion_and_search", c -> {
            schema(c);
            try (Statement s = c.createStatement()) {
                s.execute("COMMENT ON CONSTRAINT items_price_check ON tools.items IS 'never negative'");
            }
            long tools = ((Number) rows(c, "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ?", "tools").get(0).get("oid")).longValue();
            List<Map<String, Object>> tables = rows(c, "SELECT pc.oid,pc.relname,pc.relnamespace,pc.relkind FROM pg_catalog.pg_class pc WHERE pc.relkind in('r','v','m','f','p') AND pc.relname ILIKE ? AND pc.relnamespace IN (?) ORDER BY pc.relname LIMIT 100", "%ite%", tools);
            expect(column(tables, "relname").equals(List.of("items")) && "r".equals(String.valueOf(tables.get(0).get("relkind"))), "tables " + tables);
            expect(column(rows(c, "SELECT pc.oid,pc.relname,pc.relnamespace,pc.relkind FROM pg_catalog.pg_class pc WHERE pc.relkind in('r','v','m','f','p') AND pc.relname ILIKE ? AND pc.relnamespace IN (?,?) ORDER BY pc.relname LIMIT 100", "%CHEA%", tools, 11L), "relname").equals(List.of("cheap")), "a view, case-insensitively");
            expect(rows(c, "SELECT pp.oid as poid, pp.* FROM pg_catalog.pg_proc pp WHERE pp.proname ILIKE ? AND pp.pronamespace IN (?) ORDER BY pp.proname LIMIT 99", "%ite%", tools).isEmpty(), "no functions in tools");
            List<Map<String, Object>> constraints = rows(c, "SELECT pc.oid, pc.conname, pc.connamespace FROM pg_catalog.pg_constraint pc WHERE pc.conname ILIKE ? AND pc.connamespace IN (?) ORDER BY pc.conname LIMIT 100", "%ite%", tools);
            expect(column(constraints, "conname").equals(List.of("items_owner_id_fkey", "items_pkey", "items_price_check")), "constraints " + constraints);
            List<Map<String, Object>> columns = rows(c, "SELECT x.attname,x.attrelid,x.atttypid,c.relnamespace FROM pg_catalog.pg_attribute x, pg_catalog.pg_class c WHERE c.oid=x.attrelid AND x.attname ILIKE ? AND c.relnamespace IN (?) ORDER BY x.attname LIMIT 100", "%tit%", tools);
            // The table's, the view's and the index items_title's, as in PostgreSQL 15.
            expect(column(columns, "attname").equals(List.of("title", "title", "title")) && ((Number) columns.get(0).get("atttypid")).longValue() == 25, "columns " + columns);
            expect(column(rows(c, "SELECT n.oid AS oid, n.nspname AS schema_name FROM pg_namespace n WHERE has_schema_privilege(n.nspname, 'USAGE') AND n.nspname ILIKE ? ORDER BY n.nspname LIMIT 100", "%ool%"), "schema_name").equals(List.of("tools")), "schemas");
            // With "search in comments / definitions" ticked.
            expect(column(rows(c, "SELECT pc.oid,pc.relname,pc.relnamespace,pc.relkind FROM pg_catalog.pg_class pc WHERE pc.relkind in('r','v','m','f','p') AND (pc.relname ILIKE ? OR obj_description(pc.oid, 'pg_class') ILIKE ? OR (pc.relkind = 'v' AND pg_get_viewdef(pc.\"oid\") ILIKE ?))AND pc.relnamespace IN (?) ORDER BY pc.relname LIMIT 100", "%sale%", "%sale%", "%sale%", tools), "relname").equals(List.of("items")), "a table by its comment");
            expect(column(rows(c, "SELECT pc.oid, pc.conname, pc.connamespace FROM pg_catalog.pg_constraint pc WHERE (pc.conname ILIKE ? OR obj_description(pc.oid, 'pg_constraint') ILIKE ? OR (pg_get_constraintdef(pc.\"oid\") ILIKE ?))AND pc.connamespace IN (?) ORDER BY pc.conname LIMIT 100", "%negative%", "%negative%", "%negative%", tools), "conname").equals(List.of("items_price_check")), "a constraint by its comment");
            expect(column(rows(c, "SELECT pc.oid, pc.conname, pc.connamespace FROM pg_catalog.pg_constraint pc WHERE (pc.conname ILIKE ? OR obj_description(pc.oid, 'pg_constraint') ILIKE ? OR (pg_get_constraintdef(pc.\"oid\") ILIKE ?))AND pc.connamespace IN (?) ORDER BY pc.conname LIMIT 100", "%cascade%", "%cascade%", "%cascade%", tools), "conname").equals(List.of("items_owner_id_fkey")), "a constraint by its definition");
            expect(column(rows(c, "SELECT x.attname,x.attrelid,x.atttypid,c.relnamespace FROM pg_catalog.pg_attribute x, pg_catalog.pg_class c WHERE c.oid=x.attrelid AND (x.attname ILIKE ? OR col_description(c.oid, x.attnum) ILIKE ?)AND c.relnamespace IN (?) ORDER BY x.attname LIMIT 100", "%called%", "%called%", tools), "attname").equals(List.of("title")), "a column by its comment");
            expect(rows(c, "SELECT p.oid as poid,p.*,pg_catalog.pg_get_expr(p.proargdefaults, 0) as arg_defaults,d.description\nFROM pg_catalog.pg_proc p\nLEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=p.oid and d.classoid='pg_proc'::regclass  AND d.objsubid = 0\nWHERE p.pronamespace=?\nORDER BY p.proname", tools).isEmpty(), "Functions folder of tools");
        });
        checks.put("metabase_connection_and_sync", c -> {
            schema(c);
            try (Statement s = c.createStatement()) {
                s.execute("SET application_name = 'Metabase v0.55.1 [0d9b1c3e-4a1f-4c59-9d43-6f2d7b8e1a20]'");
                s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
            }
            expect(((Number) rows(c, "SELECT 1").get(0).get("?column?")).intValue() == 1, "connection test");
            // PostgreSQL runs READ UNCOMMITTED as READ COMMITTED, but reports what was set.
            expect(c.getTransactionIsolation() == Connection.TRANSACTION_READ_UNCOMMITTED, "isolation " + c.getTransactionIsolation());
            List<String> schemas = new ArrayList<>();
            try (ResultSet r = c.getMetaData().getSchemas()) {
                while (r.next()) schemas.add(r.getString("TABLE_SCHEM"));
            }
            expect(schemas.containsAll(List.of("public", "tools")), "schemas " + schemas);
            List<Map<String, Object>> privileges = rows(c, "with table_privileges as (\n select\n   NULL as role,\n   t.schemaname as schema,\n   t.objectname as table,\n"
                + "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'update') as update,\n"
                + "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'select') as select,\n"
                + "   pg_catalog.has_any_column_privilege(current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'insert') as insert,\n"
                + "   pg_catalog.has_table_privilege(     current_user, '\"' || replace(t.schemaname, '\"', '\"\"') || '\"' || '.' || '\"' || replace(t.objectname, '\"', '\"\"') || '\"',  'delete') as delete\n"
                + " from (\n   select schemaname, tablename as objectname from pg_catalog.pg_tables\n   union\n   select schemaname, viewname as objectname from pg_catalog.pg_views\n"
                + "   union\n   select schemaname, matviewname as objectname from pg_catalog.pg_matviews\n ) t\n where t.schemaname !~ '^pg_'\n"
                + "   and t.schemaname <> 'information_schema'\n   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')\n)\nselect t.*\nfrom table_privileges t");
            Set<String> readable = new TreeSet<>();
            for (Map<String, Object> r : privileges) if ("tools".equals(r.get("schema")) && Boolean.TRUE.equals(r.get("select"))) readable.add((String) r.get("table"));
            expect(readable.equals(Set.of("cheap", "items", "owners")), "readable " + readable);
            List<Map<String, Object>> tables = rows(c, "SELECT \"n\".\"nspname\" AS \"schema\", \"c\".\"relname\" AS \"name\", CASE \"c\".\"relkind\" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS \"type\", "
                + "\"d\".\"description\" AS \"description\", \"stat\".\"n_live_tup\" AS \"estimated_row_count\" FROM \"pg_catalog\".\"pg_class\" AS \"c\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"n\" ON \"c\".\"relnamespace\" = \"n\".\"oid\" "
                + "LEFT JOIN \"pg_catalog\".\"pg_description\" AS \"d\" ON (\"c\".\"oid\" = \"d\".\"objoid\") AND (\"d\".\"objsubid\" = ?) AND (\"d\".\"classoid\" = 'pg_class'::regclass) "
                + "LEFT JOIN \"pg_stat_user_tables\" AS \"stat\" ON (\"n\".\"nspname\" = \"stat\".\"schemaname\") AND (\"c\".\"relname\" = \"stat\".\"relname\") "
                + "WHERE (\"c\".\"relnamespace\" = \"n\".\"oid\") AND (\"n\".\"nspname\" !~ ?) AND (\"n\".\"nspname\" <> ?) AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND (\"n\".\"nspname\" IN (?)) "
                + "ORDER BY \"type\" ASC, \"schema\" ASC, \"name\" ASC", 0L, "^pg_", "information_schema", "tools");
            List<String> described = new ArrayList<>();
            for (Map<String, Object> r : tables) described.add(r.get("name") + " " + r.get("type") + " " + r.get("description") + " " + r.get("estimated_row_count"));
            expect(described.equals(List.of("items TABLE things for sale 2", "owners TABLE null 2", "cheap VIEW null null")), "tables " + described);
            expect(rows(c, "show timezone").get(0).get("TimeZone") != null, "time zone");
            expect(rows(c, "SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)").isEmpty(), "no enum types");
            List<Map<String, Object>> fields = rows(c, "SELECT \"c\".\"column_name\" AS \"name\", CASE WHEN \"c\".\"udt_schema\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"c\".\"udt_name\") ELSE FORMAT('\"%s\".\"%s\"', \"c\".\"udt_schema\", \"c\".\"udt_name\") END AS \"database-type\", "
                + "\"c\".\"ordinal_position\" - 1 AS \"database-position\", \"c\".\"table_schema\" AS \"table-schema\", \"c\".\"table_name\" AS \"table-name\", \"pk\".\"column_name\" IS NOT NULL AS \"pk?\", "
                + "COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST(\"c\".\"table_schema\" AS TEXT), CAST(\"c\".\"table_name\" AS TEXT)) AS REGCLASS) AS OID), \"c\".\"ordinal_position\") AS \"field-comment\", "
                + "((\"column_default\" IS NULL) OR (LOWER(\"column_default\") = 'null')) AND (\"is_nullable\" = 'NO') AND NOT (((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO')) AS \"database-required\", "
                + "((\"column_default\" IS NOT NULL) AND (\"column_default\" LIKE '%nextval(%')) OR (\"is_identity\" <> 'NO') AS \"database-is-auto-increment\" FROM \"information_schema\".\"columns\" AS \"c\" "
                + "LEFT JOIN (SELECT \"tc\".\"table_schema\", \"tc\".\"table_name\", \"kc\".\"column_name\" FROM \"information_schema\".\"table_constraints\" AS \"tc\" INNER JOIN \"information_schema\".\"key_column_usage\" AS \"kc\" "
                + "ON (\"tc\".\"constraint_name\" = \"kc\".\"constraint_name\") AND (\"tc\".\"table_schema\" = \"kc\".\"table_schema\") AND (\"tc\".\"table_name\" = \"kc\".\"table_name\") WHERE \"tc\".\"constraint_type\" = 'PRIMARY KEY') AS \"pk\" "
                + "ON (\"c\".\"table_schema\" = \"pk\".\"table_schema\") AND (\"c\".\"table_name\" = \"pk\".\"table_name\") AND (\"c\".\"column_name\" = \"pk\".\"column_name\") "
                + "WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"table_schema\" IN (?)) "
                + "UNION ALL SELECT \"pa\".\"attname\" AS \"name\", CASE WHEN \"ptn\".\"nspname\" IN ('public', 'pg_catalog') THEN FORMAT('%s', \"pt\".\"typname\") ELSE FORMAT('\"%s\".\"%s\"', \"ptn\".\"nspname\", \"pt\".\"typname\") END AS \"database-type\", "
                + "\"pa\".\"attnum\" - 1 AS \"database-position\", \"pn\".\"nspname\" AS \"table-schema\", \"pc\".\"relname\" AS \"table-name\", FALSE AS \"pk?\", NULL AS \"field-comment\", FALSE AS \"database-required\", FALSE AS \"database-is-auto-increment\" "
                + "FROM \"pg_catalog\".\"pg_class\" AS \"pc\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"pn\" ON \"pn\".\"oid\" = \"pc\".\"relnamespace\" INNER JOIN \"pg_catalog\".\"pg_attribute\" AS \"pa\" ON \"pa\".\"attrelid\" = \"pc\".\"oid\" "
                + "INNER JOIN \"pg_catalog\".\"pg_type\" AS \"pt\" ON \"pt\".\"oid\" = \"pa\".\"atttypid\" INNER JOIN \"pg_catalog\".\"pg_namespace\" AS \"ptn\" ON \"ptn\".\"oid\" = \"pt\".\"typnamespace\" "
                + "WHERE (\"pc\".\"relkind\" = 'm') AND (\"pa\".\"attnum\" >= 1) AND (\"pn\".\"nspname\" IN (?)) ORDER BY \"table-schema\" ASC, \"table-name\" ASC, \"database-position\" ASC", "tools", "tools");
            List<String> described_fields = new ArrayList<>();
            for (Map<String, Object> r : fields) {
                described_fields.add(r.get("table-name") + "." + r.get("name") + " " + r.get("database-type") + " " + r.get("database-position") + (Boolean.TRUE.equals(r.get("pk?")) ? " pk" : "")
                    + (Boolean.TRUE.equals(r.get("database-required")) ? " required" : "") + (Boolean.TRUE.equals(r.get("database-is-auto-increment")) ? " auto" : "")
                    + (r.get("field-comment") != null ? " '" + r.get("field-comment") + "'" : ""));
            }
            // As PostgreSQL 15 answers (the vector column's type is pgvector's, in schema public).
            expect(described_fields.equals(List.of("cheap.id int8 0", "cheap.title text 1", "items.id int8 0 pk auto", "items.owner_id int4 1", "items.title text 2 'what it is called'",
                "items.price numeric 3", "items.code bpchar 4", "items.added timestamptz 5", "items.e vector 6", "owners.id int4 0 pk auto", "owners.name varchar 1 required")), "fields " + described_fields);
            List<Map<String, Object>> fks = rows(c, "SELECT \"fk_ns\".\"nspname\" AS \"fk-table-schema\", \"fk_table\".\"relname\" AS \"fk-table-name\", \"fk_column\".\"attname\" AS \"fk-column-name\", \"pk_ns\".\"nspname\" AS \"pk-table-schema\", "
                + "\"pk_table\".\"relname\" AS \"pk-table-name\", \"pk_column\".\"attname\" AS \"pk-column-name\" FROM \"pg_constraint\" AS \"c\" INNER JOIN \"pg_class\" AS \"fk_table\" ON \"c\".\"conrelid\" = \"fk_table\".\"oid\" "
                + "INNER JOIN \"pg_namespace\" AS \"fk_ns\" ON \"c\".\"connamespace\" = \"fk_ns\".\"oid\" INNER JOIN \"pg_attribute\" AS \"fk_column\" ON \"c\".\"conrelid\" = \"fk_column\".\"attrelid\" "
                + "INNER JOIN \"pg_class\" AS \"pk_table\" ON \"c\".\"confrelid\" = \"pk_table\".\"oid\" INNER JOIN \"pg_namespace\" AS \"pk_ns\" ON \"pk_table\".\"relnamespace\" = \"pk_ns\".\"oid\" "
                + "INNER JOIN \"pg_attribute\" AS \"pk_column\" ON \"c\".\"confrelid\" = \"pk_column\".\"attrelid\" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND (\"c\".\"contype\" = 'f'::char) "
                + "AND (\"fk_column\".\"attnum\" = ANY(c.conkey)) AND (\"pk_column\".\"attnum\" = ANY(c.confkey)) AND (\"fk_ns\".\"nspname\" IN (?)) ORDER BY \"fk-table-schema\" ASC, \"fk-table-name\" ASC", "tools");
            expect(fks.size() == 1 && fks.get(0).get("fk-column-name").equals("owner_id") && fks.get(0).get("pk-table-name").equals("owners"), "foreign keys " + fks);
            // Analysis: a sample of rows, then the distinct values of a category column.
            List<Map<String, Object>> sample = rows(c, "-- Metabase\nSELECT SUBSTRING(\"tools\".\"items\".\"title\", 1, 1234) AS \"substring1234\", \"tools\".\"items\".\"price\" AS \"price\", \"tools\".\"items\".\"added\" AS \"added\" FROM \"tools\".\"items\" LIMIT 10000");
            expect(sample.size() == 2 && column(sample, "price").contains(new java.math.BigDecimal("1.50")), "sample " + sample);
            List<Map<String, Object>> values = rows(c, "-- Metabase\nSELECT \"tools\".\"items\".\"code\" AS \"code\" FROM \"tools\".\"items\" GROUP BY \"tools\".\"items\".\"code\" ORDER BY \"tools\".\"items\".\"code\" ASC LIMIT 1000");
            expect(column(values, "code").equals(List.of("L2  ", "P1  ")), "field values " + values);
            List<Map<String, Object>> batched = rows(c, "-- Metabase\nSELECT * FROM (SELECT 0 AS \"field_idx\", CAST(\"code\" AS text) AS \"value_out\" FROM \"tools\".\"items\" GROUP BY CAST(\"code\" AS text) LIMIT 1000) AS \"_arm\" "
                + "UNION ALL SELECT * FROM (SELECT 1 AS \"field_idx\", CAST(\"title\" AS text) AS \"value_out\" FROM \"tools\".\"items\" GROUP BY CAST(\"title\" AS text) LIMIT 1000) AS \"_arm\"");
            Set<String> seen = new TreeSet<>();
            for (Map<String, Object> r : batched) seen.add(r.get("field_idx") + ":" + r.get("value_out"));
            expect(seen.equals(Set.of("0:L2", "0:P1", "1:lamp", "1:pen")), "batched field values " + seen);
        });
    }

    /// The driver's view of a result column's source, through its PGResultSetMetaData.
    static class PgResultSetMetaDataView {
        final org.postgresql.PGResultSetMetaData md;

        PgResultSetMetaDataView(ResultSetMetaData md) throws SQLException {
            this.md = md.unwrap(org.postgresql.PGResultSetMetaData.class);
        }

        String baseTable(int i) throws SQLException { return md.getBaseTableName(i); }
        String baseColumn(int i) throws SQLException { return md.getBaseColumnName(i); }
        String baseSchema(int i) throws SQLException { return md.getBaseSchemaName(i); }

        @Override
        public String toString() {
            try {
                return md.getBaseSchemaName(1) + "." + md.getBaseTableName(1) + "." + md.getBaseColumnName(1);
            } catch (SQLException e) {
                return e.toString();
            }
        }
    }
}

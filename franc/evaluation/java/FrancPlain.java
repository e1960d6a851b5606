package franc;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Array;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Plain data for the call protocol (franc/evaluation/protocol.py): a JSON reader and
 * writer, framing (4-byte length + UTF-8 JSON), and conversion of plain data to a
 * declared Java type. Parsed JSON: null, Boolean, String, Long/BigInteger (integers),
 * java.lang.Double, ArrayList, LinkedHashMap (objects).
 */
public final class FrancPlain {
    public static final int MAX_FRAME = 64 * 1024 * 1024;
    private static final int MAX_DEPTH = 200;
    private static final int MAX_ITEMS = 10_000_000;

    private FrancPlain() {}

    /** A value with no plain-data form. */
    public static final class NotPlain extends Exception {
        public NotPlain(String what) { super(what); }
    }

    // --- writing -------------------------------------------------------------------

    public static String toJson(Object value) throws NotPlain {
        StringBuilder out = new StringBuilder();
        write(value, out, 0);
        return out.toString();
    }

    private static void tagged(String tag, Object inner, StringBuilder out, int depth)
            throws NotPlain {
        out.append("{\"$\":\"").append(tag).append("\",\"v\":");
        write(inner, out, depth + 1);
        out.append('}');
    }

    private static void write(Object value, StringBuilder out, int depth) throws NotPlain {
        if (depth > MAX_DEPTH) throw new NotPlain("nested too deeply");
        if (value == null) { out.append("null"); return; }
        Class<?> kind = value.getClass();
        if (kind == java.lang.Boolean.class) { out.append(value); return; }
        if (kind == java.lang.Integer.class) { out.append(value); return; }
        if (kind == java.lang.Double.class) { number((java.lang.Double) value, out); return; }
        if (kind == java.lang.String.class) { string((String) value, out); return; }
        if (kind == java.lang.Long.class) { out.append("{\"$\":\"long\",\"v\":").append(value).append('}'); return; }
        if (kind == java.lang.Short.class) { out.append("{\"$\":\"short\",\"v\":").append(value).append('}'); return; }
        if (kind == java.lang.Byte.class) { out.append("{\"$\":\"byte\",\"v\":").append(value).append('}'); return; }
        if (kind == java.lang.Float.class) {
            out.append("{\"$\":\"float\",\"v\":");
            number(((java.lang.Float) value).doubleValue(), out);
            out.append('}');
            return;
        }
        if (kind == java.lang.Character.class) { tagged("char", value.toString(), out, depth); return; }
        if (kind == BigInteger.class) { out.append("{\"$\":\"bigint\",\"v\":").append(value).append('}'); return; }
        if (kind == BigDecimal.class) { out.append("{\"$\":\"bigdec\",\"v\":").append(value).append('}'); return; }
        if (value instanceof FrancRemote) {
            out.append("{\"$\":\"handle\",\"v\":").append(((FrancRemote) value).handle()).append('}');
            return;
        }
        if (value instanceof Enum) {
            Class<?> type = ((Enum<?>) value).getDeclaringClass();
            out.append("{\"$\":\"enum\",\"c\":");
            string(jdkClassName(type), out);
            out.append(",\"v\":");
            string(((Enum<?>) value).name(), out);
            out.append('}');
            return;
        }
        if (kind == java.util.Date.class) {
            out.append("{\"$\":\"date\",\"v\":").append(((java.util.Date) value).getTime()).append('}');
            return;
        }
        if (kind == Class.class) { tagged("jclass", jdkClassName((Class<?>) value), out, depth); return; }
        if (kind == java.io.ByteArrayInputStream.class) { tagged("instream", unread((java.io.ByteArrayInputStream) value), out, depth); return; }
        if (kind.isArray()) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < Array.getLength(value); i++) items.add(Array.get(value, i));
            write(items, out, depth);
            return;
        }
        // Any Map or Collection, the candidate's own subclasses too: whatever its methods
        // say, only the plain data they yield reaches the trusted side.
        if (value instanceof Map) {
            List<Object> pairs = new ArrayList<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                pairs.add(java.util.Arrays.asList(e.getKey(), e.getValue()));
            }
            tagged("dict", pairs, out, depth);
            return;
        }
        if (value instanceof Collection) {
            if (value instanceof Set) out.append("{\"$\":\"set\",\"v\":");
            out.append('[');
            int count = 0;
            for (Object item : (Collection<?>) value) {
                if (count++ > 0) out.append(',');
                if (count > MAX_ITEMS) throw new NotPlain("a collection of over " + MAX_ITEMS + " items");
                write(item, out, depth + 1);
            }
            out.append(']');
            if (value instanceof Set) out.append('}');
            return;
        }
        throw new NotPlain("a " + kind.getName());
    }

    /** A class crosses by name only if it is the JDK's (the same class on both sides). */
    private static String jdkClassName(Class<?> type) throws NotPlain {
        ClassLoader loader = type.getClassLoader();
        if (loader != null && loader != ClassLoader.getPlatformClassLoader()) {
            throw new NotPlain("a class outside the JDK (" + type.getName() + ")");
        }
        return type.getName();
    }

    /** What is left to read of a byte stream (ISO-8859-1 text), which stays unread. */
    private static String unread(java.io.ByteArrayInputStream stream) {
        stream.mark(0);
        byte[] bytes = stream.readAllBytes();
        stream.reset();
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static void number(double d, StringBuilder out) {
        if (java.lang.Double.isNaN(d)) out.append("NaN");
        else if (java.lang.Double.isInfinite(d)) out.append(d > 0 ? "Infinity" : "-Infinity");
        else out.append(java.lang.Double.toString(d));
    }

    private static void string(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': out.append("\\\""); break;
                case '\\': out.append("\\\\"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\t': out.append("\\t"); break;
                default:
                    if (c < 0x20 || (c >= 0xD800 && c <= 0xDFFF)) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
            }
        }
        out.append('"');
    }

    // --- reading -------------------------------------------------------------------

    public static Object parse(String text) throws NotPlain {
        int[] at = {0};
        Object value = read(text, at, 0);
        skip(text, at);
        if (at[0] != text.length()) throw new NotPlain("trailing text");
        return value;
    }

    private static void skip(String s, int[] at) {
        while (at[0] < s.length() && Character.isWhitespace(s.charAt(at[0]))) at[0]++;
    }

    private static Object read(String s, int[] at, int depth) throws NotPlain {
        if (depth > MAX_DEPTH) throw new NotPlain("nested too deeply");
        skip(s, at);
        if (at[0] >= s.length()) throw new NotPlain("truncated");
        char c = s.charAt(at[0]);
        if (c == '{') {
            at[0]++;
            Map<String, Object> map = new LinkedHashMap<>();
            skip(s, at);
            if (s.charAt(at[0]) == '}') { at[0]++; return map; }
            while (true) {
                skip(s, at);
                String key = (String) read(s, at, depth + 1);
                skip(s, at);
                expect(s, at, ':');
                map.put(key, read(s, at, depth + 1));
                skip(s, at);
                if (s.charAt(at[0]) == ',') { at[0]++; continue; }
                expect(s, at, '}');
                return map;
            }
        }
        if (c == '[') {
            at[0]++;
            List<Object> list = new ArrayList<>();
            skip(s, at);
            if (s.charAt(at[0]) == ']') { at[0]++; return list; }
            while (true) {
                list.add(read(s, at, depth + 1));
                skip(s, at);
                if (s.charAt(at[0]) == ',') { at[0]++; continue; }
                expect(s, at, ']');
                return list;
            }
        }
        if (c == '"') return readString(s, at);
        for (String word : new String[] {"null", "true", "false", "NaN", "Infinity", "-Infinity"}) {
            if (s.startsWith(word, at[0])) {
                at[0] += word.length();
                switch (word) {
                    case "null": return null;
                    case "true": return java.lang.Boolean.TRUE;
                    case "false": return java.lang.Boolean.FALSE;
                    case "NaN": return java.lang.Double.NaN;
                    case "Infinity": return java.lang.Double.POSITIVE_INFINITY;
                    default: return java.lang.Double.NEGATIVE_INFINITY;
                }
            }
        }
        int start = at[0];
        while (at[0] < s.length() && "+-0123456789.eE".indexOf(s.charAt(at[0])) >= 0) at[0]++;
        String number = s.substring(start, at[0]);
        if (number.isEmpty()) throw new NotPlain("unexpected " + c);
        if (number.contains(".") || number.contains("e") || number.contains("E")) {
            return java.lang.Double.parseDouble(number);
        }
        BigInteger big = new BigInteger(number);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
    }

    private static void expect(String s, int[] at, char c) throws NotPlain {
        if (at[0] >= s.length() || s.charAt(at[0]) != c) throw new NotPlain("expected " + c);
        at[0]++;
    }

    private static String readString(String s, int[] at) throws NotPlain {
        StringBuilder out = new StringBuilder();
        at[0]++;
        while (at[0] < s.length()) {
            char c = s.charAt(at[0]++);
            if (c == '"') return out.toString();
            if (c != '\\') { out.append(c); continue; }
            char e = s.charAt(at[0]++);
            switch (e) {
                case 'n': out.append('\n'); break;
                case 'r': out.append('\r'); break;
                case 't': out.append('\t'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'u': out.append((char) Integer.parseInt(s.substring(at[0], at[0] + 4), 16)); at[0] += 4; break;
                default: out.append(e);
            }
        }
        throw new NotPlain("unterminated string");
    }

    // --- converting plain data to a declared type ------------------------------------

    @SuppressWarnings("unchecked")
    public static Object convert(Object plain, Type type) throws NotPlain {
        return convert(plain, type, null);
    }

    /** The objects a process keeps for the other side, by handle number (see FrancCallee). */
    public interface Handles {
        Object get(long handle) throws NotPlain;

        /** The other side's object {@code lent} as the JDK interface {@code type}, to use. */
        default Object lent(long lent, String type) throws NotPlain {
            throw new NotPlain("a lent " + type);
        }
    }

    /** Like convert(plain, type), where {"$":"handle"} names an object of {@code handles}. */
    @SuppressWarnings("unchecked")
    public static Object convert(Object plain, Type type, Handles handles) throws NotPlain {
        if (type instanceof WildcardType) type = ((WildcardType) type).getUpperBounds()[0];
        Class<?> raw = rawClass(type);
        if (plain instanceof Map && ((Map<?, ?>) plain).containsKey("$")) {
            Map<String, Object> tagged = (Map<String, Object>) plain;
            String tag = (String) tagged.get("$");
            Object inner = tagged.get("v");
            if (tag.equals("handle") && handles != null && inner instanceof Number) {
                Object held = handles.get(((Number) inner).longValue());
                if (!raw.isInstance(held)) throw new NotPlain("the handle is no " + type);
                return held;
            }
            if (tag.equals("lent") && handles != null && inner instanceof Number) {
                Object lent = handles.lent(((Number) inner).longValue(), (String) tagged.get("i"));
                if (!raw.isInstance(lent)) throw new NotPlain("the lent object is no " + type);
                return lent;
            }
            if (tag.equals("enum")) {
                try {
                    Class<?> kind = Class.forName((String) tagged.get("c"), false, ClassLoader.getPlatformClassLoader());
                    if (!kind.isEnum() || !raw.isAssignableFrom(kind)) throw new NotPlain("no " + type + ": " + kind);
                    for (Object constant : kind.getEnumConstants()) {
                        if (((Enum<?>) constant).name().equals(inner)) return constant;
                    }
                } catch (ClassNotFoundException notJdk) {
                    // below
                }
                throw new NotPlain("no JDK enum constant " + tagged.get("c") + "." + inner);
            }
            if (tag.equals("dict")) {
                Map<Object, Object> map = raw == TreeMap.class ? new TreeMap<>()
                        : raw == LinkedHashMap.class ? new LinkedHashMap<>()
                        : raw == java.util.Properties.class ? new java.util.Properties() : new HashMap<>();
                Type[] kv = typeArguments(type, 2);
                for (Object pair : (List<Object>) inner) {
                    List<Object> p = (List<Object>) pair;
                    map.put(convert(p.get(0), kv[0], handles), convert(p.get(1), kv[1], handles));
                }
                return map;
            }
            if (tag.equals("date") && (raw == java.util.Date.class || raw == Object.class)) {
                return new java.util.Date(((Number) inner).longValue());
            }
            if (tag.equals("jclass") && (raw == Class.class || raw == Object.class)) {
                try {
                    return Class.forName((String) inner, false, ClassLoader.getPlatformClassLoader());
                } catch (ClassNotFoundException notJdk) {
                    throw new NotPlain("no JDK class " + inner);
                }
            }
            if (tag.equals("instream") && raw.isAssignableFrom(java.io.ByteArrayInputStream.class)) {
                return new java.io.ByteArrayInputStream(((String) inner).getBytes(StandardCharsets.ISO_8859_1));
            }
            if (tag.equals("set") || tag.equals("frozenset") || tag.equals("tuple") || tag.equals("iterator")) {
                plain = inner;
            } else {
                plain = inner;
                if (tag.equals("char")) return convert(plain, type == Object.class ? Character.class : type, handles);
                if (type == Object.class || type == Number.class) return convert(plain, tag.equals("long") ? java.lang.Long.class
                        : tag.equals("short") ? java.lang.Short.class : tag.equals("byte") ? java.lang.Byte.class
                        : tag.equals("float") ? java.lang.Float.class : tag.equals("bigint") ? BigInteger.class
                        : tag.equals("bigdec") ? BigDecimal.class : Object.class);
            }
        }
        if (plain == null) {
            if (raw.isPrimitive()) throw new NotPlain("null for a " + raw);
            return null;
        }
        if (raw == Object.class || raw == Number.class) {
            // A value declared as Object or Number keeps the boxed type it was sent as.
            if (plain instanceof java.lang.Long) {
                long v = (java.lang.Long) plain;
                return v == (int) v ? (Object) (int) v : (Object) v;
            }
            if (raw == Number.class) {
                if (!(plain instanceof Number)) throw new NotPlain("cannot make a Number of " + plain.getClass().getSimpleName());
                return plain;
            }
            if (plain instanceof List) return convert(plain, ArrayList.class, handles);
            return plain;
        }
        if (raw == int.class || raw == java.lang.Integer.class) return ((Number) plain).intValue();
        if (raw == long.class || raw == java.lang.Long.class) return ((Number) plain).longValue();
        if (raw == short.class || raw == java.lang.Short.class) return ((Number) plain).shortValue();
        if (raw == byte.class || raw == java.lang.Byte.class) return ((Number) plain).byteValue();
        if (raw == double.class || raw == java.lang.Double.class) return ((Number) plain).doubleValue();
        if (raw == float.class || raw == java.lang.Float.class) return ((Number) plain).floatValue();
        if (raw == boolean.class || raw == java.lang.Boolean.class) return (java.lang.Boolean) plain;
        if (raw == char.class || raw == Character.class) {
            String s = (String) plain;
            if (s.length() != 1) throw new NotPlain("not one character: " + s);
            return s.charAt(0);
        }
        if (plain instanceof String && raw.isAssignableFrom(String.class)) return plain;
        if (raw == BigInteger.class) return new BigInteger(plain.toString());
        if (raw == BigDecimal.class) return new BigDecimal(plain.toString());
        if (raw.isArray() || type instanceof GenericArrayType) {
            Type element = type instanceof GenericArrayType
                    ? ((GenericArrayType) type).getGenericComponentType() : raw.getComponentType();
            List<Object> items = (List<Object>) plain;
            Object array = Array.newInstance(rawClass(element), items.size());
            for (int i = 0; i < items.size(); i++) Array.set(array, i, convert(items.get(i), element, handles));
            return array;
        }
        if (plain instanceof List) {
            Type element = typeArguments(type, 1)[0];
            Collection<Object> out = Set.class.isAssignableFrom(raw)
                    ? (raw == TreeSet.class ? new TreeSet<>() : new HashSet<>())
                    : raw == LinkedList.class ? new LinkedList<>() : new ArrayList<>();
            for (Object item : (List<Object>) plain) out.add(convert(item, element, handles));
            if (!raw.isInstance(out)) throw new NotPlain("no plain form for " + type);
            return out;
        }
        throw new NotPlain("cannot make a " + type + " of " + plain.getClass().getSimpleName());
    }

    private static Class<?> rawClass(Type type) {
        if (type instanceof Class) return (Class<?>) type;
        if (type instanceof ParameterizedType) return (Class<?>) ((ParameterizedType) type).getRawType();
        if (type instanceof GenericArrayType) {
            return Array.newInstance(rawClass(((GenericArrayType) type).getGenericComponentType()), 0).getClass();
        }
        if (type instanceof WildcardType) return rawClass(((WildcardType) type).getUpperBounds()[0]);
        return Object.class;
    }

    private static Type[] typeArguments(Type type, int count) {
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            if (args.length == count) return args;
        }
        Type[] objects = new Type[count];
        java.util.Arrays.fill(objects, Object.class);
        return objects;
    }

    /**
     * The other side's exception as the same JDK type where it has a (String) constructor,
     * checked ones too (a test catches IOException); others as a RuntimeException.
     */
    public static Exception rebuild(Map<?, ?> raised) {
        String type = String.valueOf(raised.get("type"));
        String message = String.valueOf(raised.get("message"));
        if (type.startsWith("java.") || type.startsWith("javax.")) {
            try {
                Class<?> kind = Class.forName(type, false, ClassLoader.getPlatformClassLoader());
                if (Exception.class.isAssignableFrom(kind)) {
                    return (Exception) kind.getConstructor(String.class).newInstance(message.isEmpty() ? null : message);
                }
            } catch (ReflectiveOperationException | LinkageError ignored) {
                // not rebuildable: a generic one below
            }
        }
        return new RuntimeException(type + (message.isEmpty() ? "" : ": " + message));
    }

    /** Throws {@code thrown} whether checked or not (the caller sees the other side's type). */
    @SuppressWarnings("unchecked")
    public static <T extends Throwable> RuntimeException sneaky(Throwable thrown) throws T {
        throw (T) thrown;
    }

    /** An exception as the "raised" field of an answer. */
    public static String raised(Throwable error) {
        String message = error.getMessage() == null ? "" : error.getMessage();
        if (message.length() > 2000) message = message.substring(0, 2000);
        return "\"raised\":{\"type\":" + quote(error.getClass().getName()) + ",\"message\":" + quote(message) + "}";
    }

    private static final Map<String, Class<?>> PRIMITIVES = Map.of("int", int.class, "long", long.class,
            "boolean", boolean.class, "byte", byte.class, "short", short.class, "char", char.class,
            "float", float.class, "double", double.class);

    /** A JDK class (or primitive) by its Class.getName(). */
    public static Class<?> jdkClass(String name) throws ClassNotFoundException {
        Class<?> primitive = PRIMITIVES.get(name);
        return primitive != null ? primitive : Class.forName(name, false, ClassLoader.getPlatformClassLoader());
    }

    /** Class.getName() of each of {@code types}, as a JSON list. */
    public static String typeNames(Class<?>[] types) {
        StringBuilder out = new StringBuilder("[");
        for (int i = 0; i < types.length; i++) out.append(i > 0 ? "," : "").append(quote(types[i].getName()));
        return out.append(']').toString();
    }

    // --- framing -------------------------------------------------------------------

    public static void writeFrame(OutputStream out, String json) throws IOException {
        byte[] data = json.getBytes(StandardCharsets.UTF_8);
        byte[] header = {(byte) (data.length >>> 24), (byte) (data.length >>> 16),
                (byte) (data.length >>> 8), (byte) data.length};
        out.write(header);
        out.write(data);
        out.flush();
    }

    /** The next frame, or null when the channel is closed. */
    public static String readFrame(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        int size;
        try {
            size = data.readInt();
        } catch (EOFException closed) {
            return null;
        }
        if (size < 0 || size > MAX_FRAME) throw new IOException("a frame of " + size + " bytes");
        byte[] body = new byte[size];
        data.readFully(body);
        return new String(body, StandardCharsets.UTF_8);
    }

    public static String quote(String s) {
        StringBuilder out = new StringBuilder();
        string(s == null ? "null" : s, out);
        return out.toString();
    }
}

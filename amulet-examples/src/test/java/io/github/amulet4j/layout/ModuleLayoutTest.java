package io.github.amulet4j.layout;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module layout as the build declares it, checked against the sources: no package is split over two modules (as
 * LangChain4j's build forbids), and every module's main code imports only packages of itself and of the modules its
 * pom depends on (directly or through them), so no module reaches into one above it. Reads the repository's poms and
 * sources from the folder above this module.
 */
class ModuleLayoutTest {

    private static final String GROUP = "io.github.amulet4j";
    private static final Pattern IMPORT = Pattern.compile("^import\\s+(?:static\\s+)?(io\\.github\\.amulet4j\\.[\\w.]+);",
            Pattern.MULTILINE);
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);

    private static Path root;
    /** Module name to the project modules its pom depends on (compile and runtime scopes; provided too). */
    private static final Map<String, Set<String>> DEPENDS = new TreeMap<>();
    /** Package to the modules whose main sources declare it. */
    private static final Map<String, Set<String>> OWNERS = new TreeMap<>();

    @BeforeAll
    static void readLayout() throws Exception {
        root = Path.of("").toAbsolutePath().getParent();
        Document parent = parse(root.resolve("pom.xml"));
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            String m = modules.item(i).getTextContent().trim();
            DEPENDS.put(m, projectDependencies(parse(root.resolve(m).resolve("pom.xml"))));
            for (Path f : javaFiles(root.resolve(m).resolve("src/main/java"))) {
                Matcher p = PACKAGE.matcher(Files.readString(f, StandardCharsets.UTF_8));
                if (p.find()) {
                    OWNERS.computeIfAbsent(p.group(1), k -> new TreeSet<>()).add(m);
                }
            }
        }
    }

    @Test
    void theLayoutWasRead() {
        assertTrue(DEPENDS.keySet().containsAll(List.of("amulet-core", "amulet-djl", "amulet-examples", "benchmarks")),
                DEPENDS.toString());
        assertTrue(OWNERS.size() > 10, OWNERS.toString());
    }

    @Test
    void noPackageIsSplitOverTwoModules() {
        Map<String, Set<String>> split = new TreeMap<>();
        OWNERS.forEach((pkg, mods) -> {
            if (mods.size() > 1) {
                split.put(pkg, mods);
            }
        });
        assertEquals(Map.of(), split, "packages declared in more than one module");
    }

    @Test
    void modulesImportOnlyWhatTheirPomsDependOn() throws IOException {
        List<String> wrong = new ArrayList<>();
        for (String m : DEPENDS.keySet()) {
            Set<String> allowed = closure(m);
            for (Path f : javaFiles(root.resolve(m).resolve("src/main/java"))) {
                Matcher im = IMPORT.matcher(Files.readString(f, StandardCharsets.UTF_8));
                while (im.find()) {
                    String owner = ownerOf(im.group(1));
                    if (owner != null && !allowed.contains(owner)) {
                        wrong.add(m + ": " + root.relativize(f) + " imports " + im.group(1) + " of " + owner);
                    }
                }
            }
        }
        assertEquals(List.of(), wrong, "imports of modules the importer's pom does not depend on");
    }

    @Test
    void theDependencyGraphHasNoCycle() {
        for (String m : DEPENDS.keySet()) {
            for (String d : DEPENDS.get(m)) {
                assertTrue(!closure(d).contains(m), m + " depends on " + d + ", which depends back on " + m);
            }
        }
    }

    /** The module whose main sources declare the longest package that prefixes {@code name}. */
    private static String ownerOf(String name) {
        String n = name;
        while (n.contains(".")) {
            Set<String> mods = OWNERS.get(n);
            if (mods != null) {
                return mods.iterator().next();
            }
            n = n.substring(0, n.lastIndexOf('.'));
        }
        return null;
    }

    private static Set<String> closure(String module) {
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(module));
        while (!todo.isEmpty()) {
            String m = todo.pop();
            if (seen.add(m)) {
                todo.addAll(DEPENDS.getOrDefault(m, Set.of()));
            }
        }
        return seen;
    }

    private static Set<String> projectDependencies(Document pom) {
        Set<String> out = new TreeSet<>();
        Element project = pom.getDocumentElement();
        NodeList blocks = project.getChildNodes();
        for (int b = 0; b < blocks.getLength(); b++) {
            if (!(blocks.item(b) instanceof Element e) || !e.getTagName().equals("dependencies")) {
                continue;
            }
            NodeList deps = e.getElementsByTagName("dependency");
            for (int i = 0; i < deps.getLength(); i++) {
                Element d = (Element) deps.item(i);
                String scope = text(d, "scope");
                String type = text(d, "type");
                if (GROUP.equals(text(d, "groupId")) && !"test".equals(scope) && !"test-jar".equals(type)) {
                    out.add(text(d, "artifactId"));
                }
            }
        }
        return out;
    }

    private static String text(Element e, String tag) {
        NodeList l = e.getElementsByTagName(tag);
        return l.getLength() == 0 ? null : l.item(0).getTextContent().trim();
    }

    private static Document parse(Path pom) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(pom.toFile());
    }

    private static List<Path> javaFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }
}

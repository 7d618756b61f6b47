package io.github.amulet4j.cli;

import picocli.CommandLine.Command;
import io.github.amulet4j.formats.gguf.GgmlType;
import io.github.amulet4j.formats.gguf.GgufFile;
import io.github.amulet4j.formats.gguf.GgufFormatException;
import io.github.amulet4j.djl.gguf.GgufModel;
import io.github.amulet4j.formats.gguf.GgufTensorInfo;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** {@code amulet models [FOLDER]}: the models in the local Hugging Face cache, or the GGUF files in a folder. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the models in the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else "
                + "~/.cache/huggingface/hub), or with FOLDER the GGUF files in it and its subfolders.")
final class ModelsCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "FOLDER",
            description = "A folder whose GGUF files (.gguf, or any file starting with the GGUF magic such as an Ollama blob;"
                    + " two levels deep) to list, with their architecture and weight types.")
    Path folder;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @ParentCommand
    AmuletCli cli;

    /** One cached model. */
    record CachedModel(String id, List<String> revisions, long bytes, boolean hasWeights) {
    }

    @Override
    public Integer call() throws IOException {
        if (folder != null) {
            return listGguf();
        }
        Path cache = cli.hubSettings().cacheDir();
        PrintWriter out = spec.commandLine().getOut();
        List<CachedModel> models = list(cache);
        if (models.isEmpty()) {
            out.println("no models in the Hugging Face cache " + cache);
        } else {
            out.println("models in " + cache + ":");
            out.println(String.format(Locale.ROOT, "%-48s %10s  %-8s %s", "model", "size", "weights", "snapshots"));
            for (CachedModel m : models) {
                out.println(String.format(Locale.ROOT, "%-48s %10s  %-8s %s", m.id(), size(m.bytes()),
                        m.hasWeights() ? "yes" : "no", String.join(", ", m.revisions())));
            }
        }
        out.flush();
        return AmuletCli.OK;
    }

    /** One GGUF file: its architecture, name, weight types and parameter count, or why it cannot be read. */
    record GgufEntry(Path file, long bytes, String architecture, String name, String types, long parameters,
                     String error) {
    }

    private int listGguf() throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new UsageException("models: " + folder + " is not a folder");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<GgufEntry> files = listGguf(folder);
        if (files.isEmpty()) {
            out.println("no .gguf files in " + folder);
        } else {
            out.println("GGUF files in " + folder + ":");
            out.println(String.format(Locale.ROOT, "%-44s %10s  %-8s %8s  %s", "file", "size", "arch", "params",
                    "weights"));
            for (GgufEntry e : files) {
                String rel = folder.relativize(e.file()).toString();
                out.println(e.error() != null
                        ? String.format(Locale.ROOT, "%-44s %10s  unreadable: %s", rel, size(e.bytes()), e.error())
                        : String.format(Locale.ROOT, "%-44s %10s  %-8s %8s  %s", rel, size(e.bytes()),
                        e.architecture(), params(e.parameters()), e.types()));
            }
        }
        out.flush();
        return AmuletCli.OK;
    }

    /** The {@code .gguf} files in {@code dir} and its subfolders (two levels), sorted by path. */
    static List<GgufEntry> listGguf(Path dir) throws IOException {
        List<GgufEntry> out = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir, 3)) {
            files = s.filter(f -> Files.isRegularFile(f) && GgufModel.isGguf(f.toString()))
                    .sorted().toList();
        }
        for (Path f : files) {
            long bytes = Files.size(f);
            try (GgufFile g = GgufFile.open(f)) {
                Map<GgmlType, Long> byType = new EnumMap<>(GgmlType.class);
                long params = 0;
                for (GgufTensorInfo t : g.tensors().values()) {
                    byType.merge(t.type(), t.byteSize(), Long::sum);
                    params += t.elements();
                }
                String types = byType.entrySet().stream().sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed())
                        .map(e -> e.getKey().name()).collect(Collectors.joining(", "));
                out.add(new GgufEntry(f, bytes, g.metadata().optString("general.architecture", "?"),
                        g.metadata().optString("general.name", ""), types, params, null));
            } catch (GgufFormatException e) {
                out.add(new GgufEntry(f, bytes, null, null, null, 0, e.getMessage()));
            }
        }
        return out;
    }

    private static String params(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.1fK", n / 1e3);
    }

    /** The cached models ({@code models--org--name} folders), sorted by id. */
    static List<CachedModel> list(Path cache) throws IOException {
        List<CachedModel> out = new ArrayList<>();
        if (!Files.isDirectory(cache)) {
            return out;
        }
        try (Stream<Path> dirs = Files.list(cache)) {
            for (Path dir : dirs.sorted().toList()) {
                String name = dir.getFileName().toString();
                if (!name.startsWith("models--") || !Files.isDirectory(dir)) {
                    continue;
                }
                String id = name.substring("models--".length()).replace("--", "/");
                List<String> revisions = new ArrayList<>();
                boolean weights = false;
                Path snapshots = dir.resolve("snapshots");
                if (Files.isDirectory(snapshots)) {
                    try (Stream<Path> snaps = Files.list(snapshots)) {
                        for (Path snap : snaps.sorted().toList()) {
                            String rev = snap.getFileName().toString();
                            revisions.add(rev.length() > 12 ? rev.substring(0, 12) : rev);
                            weights |= hasWeights(snap);
                        }
                    }
                }
                out.add(new CachedModel(id, revisions, sizeOf(dir.resolve("blobs")), weights));
            }
        }
        return out;
    }

    private static boolean hasWeights(Path snapshot) throws IOException {
        try (Stream<Path> files = Files.list(snapshot)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(".safetensors"));
        }
    }

    private static long sizeOf(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}

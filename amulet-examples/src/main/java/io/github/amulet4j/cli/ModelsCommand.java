package io.github.amulet4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code amulet models}: the models in the local Hugging Face cache. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the models in the local Hugging Face cache (HF_HUB_CACHE, else HF_HOME/hub, else "
                + "~/.cache/huggingface/hub).")
final class ModelsCommand implements Callable<Integer> {

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

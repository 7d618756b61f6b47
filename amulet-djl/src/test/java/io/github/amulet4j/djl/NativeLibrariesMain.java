package io.github.amulet4j.djl;

import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.prompt.Preference;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Run in a child JVM by {@link NoPyTorchOnTheJavaPathTest}: loads a tiny random model folder through
 * {@link AmuletModel} with the linear kernel named by {@code args[0]} ({@code auto} or {@code engine}), generates with a
 * preference, and prints the tokens made and which native libraries the process mapped ({@code /proc/self/maps}).
 * The model folder is made under {@code java.io.tmpdir} and deleted before the JVM ends (it once stayed behind, one
 * {@code amulet-native-libs*} folder a run).
 */
public final class NativeLibrariesMain {

    private NativeLibrariesMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("amulet-native-libs");
        try {
            generate(dir, args[0]);
        } finally {
            try (java.util.stream.Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        System.out.println("model=" + dir);
    }

    private static void generate(Path dir, String kernelName) throws Exception {
        RandomModelFolder.write(dir, RandomModelFolder.Shape.TINY_QWEN2, 7, SafetensorsDtype.F32);
        RuntimeOptions.LinearKernel kernel = RuntimeOptions.LinearKernel.parse(kernelName);
        ModelOptions options = ModelOptions.builder().model(dir).runtime(r -> r.linearKernel(kernel)).build();
        try (AmuletModel model = AmuletModel.load(options)) {
            GenerationResult r = model.generate("What is rain?", Preference.of("concise"),
                    GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(4).build());
            System.out.println("tokens=" + r.tokenIds().length);
        }
        Set<String> libs = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.lastIndexOf('/');
            if (slash >= 0 && line.contains(".so")) {
                libs.add(line.substring(slash + 1));
            }
        }
        boolean torch = libs.stream().anyMatch(l -> l.toLowerCase(Locale.ROOT).startsWith("libtorch"));
        System.out.println("pytorch=" + (torch ? "loaded" : "absent"));
        System.out.println("libraries=" + libs);
    }
}

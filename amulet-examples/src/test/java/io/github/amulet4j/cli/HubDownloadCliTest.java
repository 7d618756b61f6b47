package io.github.amulet4j.cli;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.djl.hub.FakeHubServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code generate --model org/name} against a loopback server with the Hub's URL layout, the environment
 * ({@code HF_ENDPOINT}, {@code HF_HUB_CACHE}) passed as a map: the model is downloaded into the cache with a
 * progress bar on stderr, generates, and a second run reuses the cache.
 */
class HubDownloadCliTest {

    private static final String REPO = "org/tiny-qwen2";

    @TempDir
    Path tmp;

    @Test
    void generateDownloadsAHubIdWithProgressAndReusesTheCache() throws Exception {
        Path folder = tmp.resolve("model");
        RandomModelFolder.write(folder, RandomModelFolder.Shape.TINY_QWEN2, 5, SafetensorsDtype.F32);
        Path cache = tmp.resolve("hub-cache");
        try (FakeHubServer hub = new FakeHubServer(REPO)) {
            hub.addFolder(folder);
            Map<String, String> env = Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString(),
                    "HF_HOME", tmp.resolve("hf-home").toString());
            String[] args = {"generate", "--model", REPO, "--preference", "concise", "--max-new-tokens", "5",
                    "--json", "Hi?"};
            CliRun first = run(env, args);
            assertEquals(0, first.exitCode(), first.toString());
            assertTrue(first.err().contains("model.safetensors") && first.err().contains("100%"),
                    "a progress bar for the weights: " + first.err());
            assertTrue(first.err().contains("MiB"), first.err());
            Path snapshot = cache.resolve("models--org--tiny-qwen2").resolve("snapshots");
            assertTrue(Files.isDirectory(snapshot), "downloaded into the Hugging Face cache layout");
            try (var s = Files.list(snapshot)) {
                Path rev = s.findFirst().orElseThrow();
                assertArrayEquals(Files.readAllBytes(folder.resolve("model.safetensors")),
                        Files.readAllBytes(rev.resolve("model.safetensors")));
            }
            assertTrue(first.out().contains("\"new_tokens\""), first.out());

            // the same text as the local folder gives
            CliRun local = CliRun.run("generate", "--model", folder.toString(), "--preference", "concise",
                    "--max-new-tokens", "5", "--json", "Hi?");
            assertEquals(textOf(local.out()), textOf(first.out()));

            long blobGets = hub.requestCount("GET", "/cdn/");
            CliRun second = run(env, args);
            assertEquals(0, second.exitCode(), second.toString());
            assertEquals(blobGets, hub.requestCount("GET", "/cdn/"), "the weights come from the cache");
            assertFalse(second.err().contains("100%"), "no bar for cached files: " + second.err());
        }
    }

    private static String textOf(String json) {
        int i = json.indexOf("\"token_ids\"");
        return json.substring(i, json.indexOf(']', i));
    }

    private static CliRun run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmuletCli.execute(args, new StringReader(""), env, o, e);
        }
        return new CliRun(code, out.toString(), err.toString());
    }
}

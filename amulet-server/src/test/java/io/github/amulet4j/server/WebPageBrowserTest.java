package io.github.amulet4j.server;


import io.github.amulet4j.djl.AmuletBatcher;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.generate.BatchingOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web page at {@code /} in a real headless Chromium (skipped where none is installed; CI installs
 * Debian's {@code chromium} in {@code .ci/run}): type a message and a preference, send, and both columns
 * fill with streamed text; the screenshot is not blank.
 */
class WebPageBrowserTest {

    @TempDir
    Path dir;

    @Test
    void typingAMessageAndAPreferenceFillsBothColumns() throws Exception {
        Optional<Path> chromium = HeadlessChromium.find();
        assumeTrue(chromium.isPresent(), "no Chromium installed");
        try (AmuletModel model = ServerLoadAndFaultsTest.endlessModel(dir.resolve("endless"));
             AmuletBatcher batcher = model.batcher(BatchingOptions.defaults());
             AmuletServer server = AmuletServer.start(batcher, ServerOptions.builder("tiny").port(0).build());
             HeadlessChromium browser = new HeadlessChromium(chromium.get(), Files.createDirectories(dir.resolve("profile")))) {
            browser.navigate(server.uri() + "/");
            waitFor(browser, "document.readyState === 'complete' && document.getElementById('model').textContent.includes('tiny')");
            browser.eval("document.getElementById('message').value = 'What is the ozone layer?';"
                    + "document.getElementById('preference').value = 'Answer like a pirate.';"
                    + "document.getElementById('method').value = 'amulet';"
                    + "document.getElementById('max-tokens').value = '12';"
                    + "document.getElementById('send').click(); true");
            waitFor(browser, "document.querySelectorAll('#log-base .assistant').length === 1"
                    + " && document.querySelectorAll('#log-pref .assistant').length === 1"
                    + " && !document.getElementById('send').disabled");
            String base = browser.eval("document.querySelector('#log-base .assistant').textContent").getAsString();
            String amulet = browser.eval("document.querySelector('#log-pref .assistant').textContent").getAsString();
            assertTrue(!base.isEmpty() && !amulet.isEmpty(), "both columns filled: '" + base + "' / '" + amulet + "'");
            assertEquals("amulet (Answer like a pirate.)",
                    browser.eval("document.getElementById('title-pref').textContent").getAsString());
            assertEquals(0, browser.eval("document.querySelectorAll('.error').length").getAsInt(), "no error shown");

            byte[] png = browser.screenshot();
            String keep = System.getenv("AMULET_SCREENSHOT"); // a path to look at the page yourself
            if (keep != null) {
                Files.write(Path.of(keep), png);
            }
            BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
            Set<Integer> colours = new HashSet<>();
            for (int y = 0; y < shot.getHeight(); y += 3) {
                for (int x = 0; x < shot.getWidth(); x += 3) {
                    colours.add(shot.getRGB(x, y));
                }
            }
            assertTrue(colours.size() > 20, "the screenshot is not blank: " + colours.size() + " colours");
        }
    }

    private static void waitFor(HeadlessChromium browser, String condition) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < until) {
            if (browser.eval("!!(" + condition + ")").getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting for: " + condition);
    }
}

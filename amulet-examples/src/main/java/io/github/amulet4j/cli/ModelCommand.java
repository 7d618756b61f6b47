package io.github.amulet4j.cli;

import io.github.amulet4j.align.Method;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** What the commands that run a model share: the shared options, {@code --verbose}, loading, output streams. */
abstract class ModelCommand implements Callable<Integer> {

    @Mixin
    SharedOptions options;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @ParentCommand
    AmuletCli cli;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** The model options of the shared options, with the Hub settings of the command line's environment. */
    ModelOptions modelOptions() {
        return Options.model(options).toBuilder().hubSettings(cli.hubSettings()).build();
    }

    /**
     * Loads the model named by {@code --model}, drawing a progress bar on stderr for each file a Hub id
     * downloads; load failures are run-time failures (exit 1).
     */
    AmuletModel loadModel() throws IOException {
        try (DownloadProgressBars progress = new DownloadProgressBars(err(),
                cli.isStandardStreams() && System.console() != null)) {
            return AmuletModel.load(modelOptions().toBuilder().downloadListener(progress).build());
        }
    }

    Method method() {
        return Options.method(options.method, "--method");
    }

    GenerationConfig config(Method method) {
        return Options.generation(options, method);
    }

    /** A request for the conversation with the {@code --prompt-style} of the options. */
    AmuletRequest request(Conversation conversation, Preference preference, GenerationConfig config) {
        return AmuletRequest.builder(conversation).preference(preference)
                .promptStyle(Options.promptStyle(options.promptStyle)).config(config).build();
    }

    /** The preference of {@code --preference}; required by every method but {@code base}. */
    Preference preferenceFor(Method method) {
        if (options.preference == null && method == Method.BASE) {
            return null;
        }
        return Options.preference(options.preference);
    }
}

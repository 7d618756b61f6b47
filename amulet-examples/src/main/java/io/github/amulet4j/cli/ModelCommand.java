package io.github.amulet4j.cli;

import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.model.RuntimeOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** What every command that names a model shares: {@code --model}, {@code --revision}, {@code --verbose}, streams. */
abstract class ModelCommand implements Callable<Integer> {

    @Mixin
    ModelFlags modelFlags;

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

    /** The engine options of this command (the defaults for a command that reads no weights). */
    RuntimeOptions runtime() {
        return RuntimeOptions.defaults();
    }

    /** The model options of the flags, with the Hub settings of the command line's environment. */
    ModelOptions modelOptions() {
        return Options.model(modelFlags, runtime()).toBuilder().hubSettings(cli.hubSettings()).build();
    }
}

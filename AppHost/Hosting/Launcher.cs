using System.Runtime.InteropServices;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Hosting;

/// <summary>
/// The frame around the start sequence: options, the data-folder lock, SIGINT/SIGTERM handling, supervision
/// once everything is up, and the orderly stop (services first, PostgreSQL last) however the run ends.
/// </summary>
internal static class Launcher
{
    public static async Task<int> RunAsync(string[] args, Func<Launch, CancellationToken, Task> startSequence)
    {
        var output = new ConsoleOutput();
        var commandLine = CommandLine.Parse(args);
        if (commandLine.ShowHelp)
        {
            Console.WriteLine(CommandLine.Usage);
            return ExitCodes.Stopped;
        }

        if (commandLine.Error is not null)
        {
            output.Error(commandLine.Error);
            Console.Error.WriteLine(CommandLine.Usage);
            return ExitCodes.Usage;
        }

        AppHostOptions options;
        DataDirectoryLock dataLock;
        try
        {
            var repository = RepositoryLayout.Discover(Environment.CurrentDirectory, AppContext.BaseDirectory);
            options = AppHostOptions.Load(AppHostOptions.BuildConfiguration(commandLine.Settings), repository);
            dataLock = DataDirectoryLock.Acquire(options.DataDirectory);
        }
        catch (StartupFailure failure)
        {
            output.Error(failure.Message);
            return ExitCodes.StartupFailed;
        }

        using (dataLock)
        {
            return await RunAsync(options, output, startSequence);
        }
    }

    private static async Task<int> RunAsync(AppHostOptions options, ConsoleOutput output, Func<Launch, CancellationToken, Task> startSequence)
    {
        var children = new Supervisor(output, options.NoRestart);
        using var shutdown = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            // Ours to handle: the runtime's default would end the process before the children are stopped.
            context.Cancel = true;
            children.MarkStopping();
            if (!shutdown.IsCancellationRequested)
            {
                output.Info($"{context.Signal} received: stopping the platform.");
                shutdown.Cancel();
            }
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        var exitCode = ExitCodes.Stopped;
        try
        {
            await startSequence(new Launch(options, output, children), shutdown.Token);
            children.BeginSupervision();
            var stopped = Task.Delay(Timeout.Infinite, shutdown.Token).ContinueWith(_ => ExitCodes.Stopped, TaskScheduler.Default);
            exitCode = await await Task.WhenAny(children.GaveUp, stopped);
        }
        catch (StartupFailure failure)
        {
            output.Error(failure.Message);
            exitCode = ExitCodes.StartupFailed;
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            // Stopped by a signal during the start: an orderly stop like any other.
        }
        finally
        {
            await children.StopAllAsync();
            output.Info(exitCode == ExitCodes.Stopped ? "Stopped." : $"Stopped (exit code {exitCode}).");
        }

        return exitCode;
    }
}

using System.Text;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>The log shipper over a real process replica, a real PostgreSQL and a folder object store.</summary>
public sealed class LogShipperTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Shipper_CopiesTheReplicasOutput_ByteForByte_InChunks_AndCompletesWhenItEnds()
    {
        await using var rig = await LogShipperRig.CreateAsync(chunkBytes: 4096);
        await rig.StartJobAsync("sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo \"line $i of the trainer\"; i=$((i+1)); done; echo 'é ü ✓ done'");
        var shipper = rig.NewShipper();

        await rig.ShipUntilCompleteAsync(Timeout, shipper);

        var shipped = await rig.AssertContiguousAsync();
        var onDisk = await File.ReadAllBytesAsync(rig.Backend.LogOf(rig.JobId, "trainer-0"));
        Assert.Equal(onDisk, shipped);
        var chunks = await rig.ChunksAsync();
        Assert.True(chunks.Count > 10, $"{chunks.Count} chunks for {shipped.Length} bytes");
        Assert.All(chunks, c => Assert.InRange(c.Bytes, 1, 4096));
        // Every chunk but the last ends a line (the shipper cuts at the last newline).
        foreach (var chunk in chunks.SkipLast(1))
        {
            Assert.Equal((byte)'\n', (await rig.ObjectAsync(chunk.ObjectKey))[^1]);
        }

        Assert.Equal(2 + 3000 + 1, chunks.Sum(c => c.Lines)); // the backend's two header lines, 3000 lines, the last line
        Assert.EndsWith("é ü ✓ done\n", Encoding.UTF8.GetString(shipped));

        // Complete: another pass ships nothing more.
        Assert.Equal(0, await rig.NewShipper().PassAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Shipper_ResumesAfterARestart_AndBesideAnother_WithoutDuplicatesOrGaps()
    {
        await using var rig = await LogShipperRig.CreateAsync(chunkBytes: 2048);
        await rig.StartJobAsync("sh", "-c", "i=0; while [ $i -lt 200 ]; do echo \"step $i: loss 0.$i\"; i=$((i+1)); sleep 0.01; done");
        var first = rig.NewShipper();
        var deadline = DateTime.UtcNow + Timeout;
        while ((await rig.ChunksAsync()).Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the first shipper shipped nothing");
            await first.PassAsync(CancellationToken.None);
            await Task.Delay(100);
        }

        // A crash after writing the next object but before recording it: the object is simply overwritten later.
        var next = (await rig.ChunksAsync()).Count;
        await rig.Store.PutAsync(JobLogService.KeyOf(rig.JobId, "trainer-0", next), new MemoryStream("garbage from a crashed shipper\n"u8.ToArray()));

        // "Restart": two new shippers (two Workers) take it from there at the same time.
        await rig.ShipUntilCompleteAsync(Timeout, rig.NewShipper(), rig.NewShipper());

        var shipped = await rig.AssertContiguousAsync();
        Assert.Equal(await File.ReadAllBytesAsync(rig.Backend.LogOf(rig.JobId, "trainer-0")), shipped);
        var text = Encoding.UTF8.GetString(shipped);
        Assert.DoesNotContain("garbage", text);
        // The sequence number the crashed shipper had used was recorded later, with the right bytes in its object.
        Assert.Contains(await rig.ChunksAsync(), c => c.Seq == next && c.Bytes > 0);
        for (var i = 0; i < 200; i++)
        {
            Assert.Single(text.Split('\n'), l => l == $"step {i}: loss 0.{i}");
        }
    }

    [Fact]
    public async Task Cap_WritesOneMarker_KeepsTheDiskLogBounded_AndTheJobGoesOnWithItsExitCode()
    {
        const long cap = 20_000;
        await using var rig = await LogShipperRig.CreateAsync(maxLogBytes: cap, chunkBytes: 8192);
        // 2 MB of output, far over the cap; then a sign that the command went on past it, and its own exit code.
        await rig.StartJobAsync("sh", "-c", "yes 'a line of output, again and again' | head -c 2000000; echo went-on > went-on; exit 3");

        await rig.ShipUntilCompleteAsync(Timeout, rig.NewShipper());

        var status = await rig.Backend.PollAsync(rig.JobId, "trainer-0", (await rig.ReplicaAsync()).BackendState, CancellationToken.None);
        Assert.Equal(WorkloadStatus.Exited, status.Status);
        Assert.Equal(3, status.ExitCode);
        Assert.True(File.Exists(Path.Combine(rig.Backend.WorkFolderOf(rig.JobId), "went-on")), "the command did not go on past the cap");

        // On disk: the header, the cap's worth of output and the wrapper's one line, not 2 MB.
        var disk = new FileInfo(rig.Backend.LogOf(rig.JobId, "trainer-0")).Length;
        Assert.InRange(disk, cap, cap + 1024);
        Assert.Contains($"[log truncated at {cap} bytes: the job goes on]", await File.ReadAllTextAsync(rig.Backend.LogOf(rig.JobId, "trainer-0")));

        // In the store: exactly the cap, then one marker chunk holding no output bytes.
        await rig.AssertContiguousAsync();
        var chunks = await rig.ChunksAsync();
        Assert.Equal(cap, chunks.Sum(c => (long)c.Bytes));
        var marker = Assert.Single(chunks, c => c.Bytes == 0);
        Assert.Equal(chunks[^1].Seq, marker.Seq);
        Assert.Equal($"\n[log truncated at {cap} bytes: the job goes on]\n", Encoding.UTF8.GetString(await rig.ObjectAsync(marker.ObjectKey)));
        Assert.Equal(cap, (await rig.ReplicaAsync()).LogBytes);
    }

    [Fact]
    public async Task LongLinesAndUnfinishedLines_AreShippedWhileTheReplicaRuns()
    {
        await using var rig = await LogShipperRig.CreateAsync(chunkBytes: 65536, maxLineBytes: 1024);
        // 5000 bytes without a newline, then a progress line without one, then a long sleep.
        await rig.StartJobAsync("sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x; printf 'epoch 1/3 [=====>    ]'; sleep 20");
        var shipper = rig.NewShipper();
        var deadline = DateTime.UtcNow + Timeout;
        while (!Encoding.UTF8.GetString(await rig.AssertContiguousAsync()).EndsWith("epoch 1/3 [=====>    ]", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the unfinished line was never shipped; shipped: "
                + Encoding.UTF8.GetString(await rig.AssertContiguousAsync()) + "\non disk: " + await File.ReadAllTextAsync(rig.Backend.LogOf(rig.JobId, "trainer-0")));
            await shipper.PassAsync(CancellationToken.None);
            await Task.Delay(200);
        }

        var replica = await rig.ReplicaAsync();
        Assert.Equal(JobLogState.Shipping, replica.LogState);
        Assert.Contains(new string('x', 5000), Encoding.UTF8.GetString(await rig.AssertContiguousAsync()));
    }
}

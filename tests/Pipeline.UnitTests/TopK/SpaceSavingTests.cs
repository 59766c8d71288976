using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Consumers.TopK.Sketch;
using Pipeline.Testing;

namespace Pipeline.UnitTests.TopK;

public sealed class SpaceSavingTests
{
    [Fact]
    public void BelowCapacityEveryCountIsExactWithNoError()
    {
        var sketch = new SpaceSaving(8);
        foreach (var (key, weight) in new[] { ("a", 3L), ("b", 1L), ("a", 2L), ("c", 7L), ("b", 4L) }) sketch.Add(key, weight);

        Assert.Equal([new SketchEntry("c", 7, 0), new SketchEntry("a", 5, 0), new SketchEntry("b", 5, 0)], sketch.Entries());
        Assert.Equal(17, sketch.Total);
        Assert.Equal(0, sketch.UntrackedMax);
    }

    [Fact]
    public void ANewKeyInAFullSketchTakesTheMinimumSlotAndInheritsItsCountAsError()
    {
        var sketch = new SpaceSaving(2);
        sketch.Add("a", 5);
        sketch.Add("b", 2);
        sketch.Add("c", 1);

        Assert.Null(sketch.Find("b"));
        Assert.Equal(new SketchEntry("c", 3, 2), sketch.Find("c"));
        Assert.Equal(3, sketch.UntrackedMax);
    }

    [Fact]
    public void Utf8AndStringUpdatesHitTheSameEntry()
    {
        var sketch = new SpaceSaving(4);
        sketch.Add("host-1"u8, 2);
        sketch.Add("host-1", 3);
        Assert.Equal(new SketchEntry("host-1", 5, 0), Assert.Single(sketch.Entries()));
    }

    [Fact]
    public void EveryTrackedCountBoundsTheTrueCountAndEveryKeyAboveTotalOverCapacityIsTracked()
    {
        var streams = Gen.ListOf(Gen.Zip(Gen.Choose(0, 60), Gen.Choose(1, 9))).Select(l => l.ToList());
        var property = Prop.ForAll(streams.ToArbitrary(), stream =>
        {
            var sketch = new SpaceSaving(12);
            var exact = new Dictionary<string, long>();
            foreach (var (k, w) in stream)
            {
                var key = "k" + k;
                sketch.Add(key, w);
                exact[key] = exact.GetValueOrDefault(key) + w;
            }
            var entries = sketch.Entries();
            var tracked = entries.Select(e => e.Key).ToHashSet();
            return entries.All(e => e.LowerBound <= exact[e.Key] && exact[e.Key] <= e.Count && e.Error <= sketch.Total / sketch.Capacity)
                && exact.Where(x => !tracked.Contains(x.Key)).All(x => x.Value <= sketch.UntrackedMax)
                && exact.Where(x => x.Value > sketch.Total / sketch.Capacity).All(x => tracked.Contains(x.Key))
                && sketch.Total == exact.Values.Sum();
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    [Fact]
    public void MergedPartialsKeepTheBoundsOfTheWholeStream()
    {
        var streams = Gen.ListOf(Gen.Zip(Gen.Choose(0, 3), Gen.Choose(0, 50), (p, k) => (P: p, K: k)).Zip(Gen.Choose(1, 5), (pk, w) => (pk.P, pk.K, W: w))).Select(l => l.ToList());
        var property = Prop.ForAll(streams.ToArbitrary(), stream =>
        {
            var parts = Enumerable.Range(0, 4).Select(_ => new SpaceSaving(10)).ToArray();
            var exact = new Dictionary<string, long>();
            foreach (var (p, k, w) in stream)
            {
                var key = "k" + k;
                parts[p].Add(key, w);
                exact[key] = exact.GetValueOrDefault(key) + w;
            }
            var merged = SketchMerge.Merge(parts.Select(PartialSketch.Of).ToList());
            var listed = merged.Entries.Select(e => e.Key).ToHashSet();
            return merged.Entries.All(e => e.LowerBound <= exact[e.Key] && exact[e.Key] <= e.Count)
                && exact.Where(x => !listed.Contains(x.Key)).All(x => x.Value <= merged.UntrackedMax)
                && merged.Total == exact.Values.Sum();
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    [Fact]
    public void MergingIsIndependentOfTheOrderOfThePartials()
    {
        var random = new Random(7);
        var parts = Enumerable.Range(0, 5).Select(_ => new SpaceSaving(20)).ToArray();
        for (var i = 0; i < 5000; i++) parts[random.Next(5)].Add("k" + random.Next(80), random.Next(1, 4));
        var forward = SketchMerge.Merge(parts.Select(PartialSketch.Of).ToList());
        var backward = SketchMerge.Merge(parts.Reverse().Select(PartialSketch.Of).ToList());
        Assert.Equal(forward.Entries, backward.Entries);
        Assert.Equal(forward.UntrackedMax, backward.UntrackedMax);
    }

    [Fact]
    public void ARestoredSketchContinuesExactlyAsTheOriginalTiesIncluded()
    {
        var random = new Random(11);
        var stream = Enumerable.Range(0, 20_000).Select(_ => ("k" + random.Next(500), (long)random.Next(1, 3))).ToList();
        var uninterrupted = new SpaceSaving(50);
        foreach (var (k, w) in stream) uninterrupted.Add(k, w);

        var first = new SpaceSaving(50);
        foreach (var (k, w) in stream.Take(7_777)) first.Add(k, w);
        var restored = SketchCodec.Decode(SketchCodec.Encode(first));
        foreach (var (k, w) in stream.Skip(7_777)) restored.Add(k, w);

        Assert.Equal(uninterrupted.Entries(), restored.Entries());
        Assert.Equal(SketchCodec.Encode(uninterrupted), SketchCodec.Encode(restored));
    }

    [Fact]
    public void RestoringIntoASmallerCapacityKeepsTheLargestEntriesAndTheBounds()
    {
        var sketch = new SpaceSaving(10);
        for (var i = 1; i <= 10; i++) sketch.Add("k" + i, i);
        var smaller = SketchCodec.Decode(SketchCodec.Encode(sketch), capacity: 4);
        Assert.Equal(["k10", "k9", "k8", "k7"], smaller.Entries().Select(e => e.Key));
        Assert.True(smaller.UntrackedMax >= 6);
    }

    [Fact]
    public void ACorruptSketchIsRefusedNotMisread()
    {
        var data = SketchCodec.Encode(new SpaceSaving(4));
        Assert.Throws<InvalidDataException>(() => SketchCodec.Decode(data.AsSpan(0, 2)));
        data[0] = 9;
        Assert.Throws<InvalidDataException>(() => SketchCodec.Decode(data));
    }

    [Theory]
    [InlineData(50, 1_000, 1.0)]
    [InlineData(1_000, 100_000, 1.1)]
    [InlineData(1_000, 2_000, 0.6)]
    public void UpdatesFollowThePlainReferenceOfTheSamePolicyUpdateForUpdate(int capacity, int keys, double exponent)
    {
        // A seeded Zipf stream with the benchmark's weights (1, and 4 for a sampled event), span and string updates
        // mixed, restores in the middle: every thousand steps both hold the same entries in the same order.
        var zipf = new Zipf(keys, exponent, seed: capacity + keys);
        var random = new Random(7);
        var sketch = new SpaceSaving(capacity);
        var reference = new ReferenceSpaceSaving(capacity);
        for (var i = 0; i < 200_000; i++)
        {
            var key = "key-" + zipf.Next();
            var weight = random.Next(10) == 0 ? 4L : 1L;
            if (i % 2 == 0) sketch.Add(Encoding.UTF8.GetBytes(key), weight);
            else sketch.Add(key, weight);
            reference.Add(key, weight);
            if (i % 50_000 == 49_999) sketch = SketchCodec.Decode(SketchCodec.Encode(sketch));
            if (i % 1_000 == 999) AssertSameOrder(reference, sketch);
        }
        AssertSameOrder(reference, sketch);
        Assert.Equal(reference.Entries(), sketch.Entries());
        Assert.Equal(reference.UntrackedMax, sketch.UntrackedMax);
    }

    [Fact]
    public void WeightsThatJumpPastManyCountsLandInOrder()
    {
        // Sampled events weigh what their sample rate says (up to thousands): an update then passes many buckets.
        var random = new Random(13);
        var sketch = new SpaceSaving(100);
        var reference = new ReferenceSpaceSaving(100);
        for (var i = 0; i < 50_000; i++)
        {
            var key = "k" + random.Next(400);
            var weight = random.Next(4) == 0 ? random.Next(1, 5_000) : 1L;
            sketch.Add(key, weight);
            reference.Add(key, weight);
            if (i % 500 == 499) AssertSameOrder(reference, sketch);
        }
        AssertSameOrder(reference, sketch);
    }

    [Fact]
    public void ASketchStoredInHeapOrderByAFormerVersionIsReadByCount()
    {
        // Versions before the buckets stored a min-heap, slot by slot: not ascending, yet the same entries.
        var heapOrder = new List<SketchEntry> { new("a", 1, 0), new("b", 5, 1), new("c", 2, 0), new("d", 7, 2), new("e", 6, 0), new("f", 2, 1) };
        var sketch = SpaceSaving.Restore(6, 23, heapOrder);
        Assert.Equal(["a", "c", "f", "b", "e", "d"], sketch.StoredOrder().Select(e => e.Key));
        Assert.Equal(heapOrder.OrderByDescending(e => e.Count).ThenBy(e => e.Key, StringComparer.Ordinal), sketch.Entries());
        Assert.Equal(1, sketch.UntrackedMax);
        sketch.Add("g", 1);
        Assert.Equal(new SketchEntry("g", 2, 1), sketch.Find("g"));
        Assert.Null(sketch.Find("a"));
    }

    [Fact]
    public void KeysOfEveryLengthReplacingEachOtherStayReadableAndTheirArenaStaysBounded()
    {
        // Keys from 1 to 300 chars (a replacement mostly does not fit the evicted key's room, so the arena appends and
        // compacts), checked against the reference entry for entry; the arena stays within a few times
        // the most the tracked keys ever held, however many keys went through it.
        var random = new Random(5);
        var sketch = new SpaceSaving(64);
        var reference = new ReferenceSpaceSaving(64);
        var mostLive = 0;
        for (var i = 0; i < 100_000; i++)
        {
            var n = random.Next(2_000);
            var key = n.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(1 + n * 7919 % 300, (char)('a' + n % 26));
            sketch.Add(Encoding.UTF8.GetBytes(key), 1 + n % 3);
            reference.Add(key, 1 + n % 3);
            mostLive = Math.Max(mostLive, sketch.KeyBytesLive);
        }
        AssertSameOrder(reference, sketch);
        Assert.Equal(sketch.StoredOrder().Sum(entry => Encoding.UTF8.GetByteCount(entry.Key)), sketch.KeyBytesLive);
        Assert.InRange(sketch.KeyBytesReserved, sketch.KeyBytesLive, 4 * (mostLive + 300));
    }

    [Fact]
    public void AKeyLongerThanASketchKeepsIsRefusedClearlyAndTheSketchGoesOn()
    {
        // The aggregator cuts keys at TopK:MaxKeyLength (at most 4,096 chars, 12,291 bytes); the sketch's own limit is
        // 65,535 bytes, and a longer key from any other caller is an error, not a wrapped length.
        var sketch = new SpaceSaving(4);
        sketch.Add(new string('€', 4_096), 1);
        var error = Assert.Throws<ArgumentException>(() => sketch.Add(new string('x', KeyArena.MaxKeyBytes + 1), 1));
        Assert.Contains("longer than a sketch keeps", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, sketch.Total);
        sketch.Add("a", 2);
        Assert.Equal(["a", new string('€', 4_096)], sketch.Entries().Select(e => e.Key));
        Assert.Equal(3, sketch.Total);
    }

    [Fact]
    public void TheStoredFormIsTheVersionOneLayoutForKeysOfAnyLengthAndScript()
    {
        // Keys of 1 to 300 chars, ASCII and not (a key's UTF-8 length needs one, two or three varint bytes around 127
        // and 16,383 bytes), written as version 1 always was: version, capacity, total, count, then per entry the
        // UTF-8 length, the key, count and error (entries by count ascending, which is also a min-heap).
        var sketch = new SpaceSaving(40);
        var random = new Random(3);
        for (var i = 0; i < 2_000; i++)
        {
            var n = random.Next(60);
            var key = new string((char)('a' + n % 26), 1 + n * 5) + (n % 3 == 0 ? "é€" : "") + (n == 7 ? new string('ж', 8_200) : "");
            sketch.Add(key, 1 + n % 4);
        }
        var expected = new List<byte>();
        void Varint(ulong value)
        {
            for (; value >= 0x80; value >>= 7) expected.Add((byte)(value | 0x80));
            expected.Add((byte)value);
        }
        Varint(1);
        Varint((ulong)sketch.Capacity);
        Varint((ulong)sketch.Total);
        Varint((ulong)sketch.Count);
        var stored = sketch.StoredOrder().ToList();
        Assert.Equal(stored.OrderBy(e => e.Count).Select(e => e.Count), stored.Select(e => e.Count));
        foreach (var entry in stored)
        {
            var utf8 = System.Text.Encoding.UTF8.GetBytes(entry.Key);
            Varint((ulong)utf8.Length);
            expected.AddRange(utf8);
            Varint((ulong)entry.Count);
            Varint((ulong)entry.Error);
        }
        Assert.Equal(expected.ToArray(), SketchCodec.Encode(sketch));
        Assert.Equal(sketch.Entries(), SketchCodec.Decode(SketchCodec.Encode(sketch)).Entries());
    }

    [Fact]
    public void KeysThatDifferInOneCharAreToldApartAtEveryLengthAndPlace()
    {
        // Short keys are compared in wide words (two overlapping reads): each char of each length must still count.
        for (var length = 1; length <= 40; length++)
        {
            var sketch = new SpaceSaving(64);
            var same = new string('k', length);
            sketch.Add(same, 1);
            for (var place = 0; place < length; place++)
            {
                var other = same.ToCharArray();
                other[place] = 'x';
                sketch.Add(Encoding.UTF8.GetBytes(other), 2);
            }
            sketch.Add(Encoding.UTF8.GetBytes(same), 1);
            Assert.Equal(length + 1, sketch.Count);
            Assert.Equal(new SketchEntry(same, 2, 0), sketch.Find(same));
        }
    }

    [Fact]
    public void ASketchStoredWithAKeyTwiceIsRefused()
    {
        var sketch = new SpaceSaving(4);
        sketch.Add("a", 1);
        sketch.Add("b", 1);
        var data = SketchCodec.Encode(sketch);
        // Both keys are one byte long: make the second the first.
        var second = Array.LastIndexOf(data, (byte)'b');
        data[second] = (byte)'a';
        Assert.Throws<InvalidDataException>(() => SketchCodec.Decode(data));
    }

    private static void AssertSameOrder(ReferenceSpaceSaving reference, SpaceSaving sketch)
    {
        Assert.Equal(reference.Total, sketch.Total);
        Assert.Equal(reference.Count, sketch.Count);
        Assert.Equal(reference.StoredOrder(), sketch.StoredOrder());
        foreach (var entry in reference.Entries()) Assert.Equal(entry, sketch.Find(entry.Key));
    }
}

// Sample and test of the C# binding (Hievc.cs): client calls (against HIEVC_FHIR_URL when set,
// else the embedded sandbox), MY Core validation, the rich error, Encounters delivered to a C#
// delegate on the library's listener thread and pulled with Poll, and a VCI consultation end to
// end on the sandbox with the ready-made VC listener.
//
//   mcs -out:hievc-sample.exe Hievc.cs Program.cs && LD_LIBRARY_PATH=<dist>/lib mono hievc-sample.exe
//
// Exit code 0 when every check passed.

using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using HieVc;

static class Program
{
    static int checks, failed;

    static void Check(bool ok, string what)
    {
        checks++;
        if (!ok)
        {
            failed++;
            Console.Error.WriteLine("  FAIL " + what);
        }
    }

    static HievcException Throws(Action a)
    {
        try { a(); }
        catch (HievcException e) { return e; }
        return null;
    }

    static string Encounter(string dataDir, int n)
    {
        return File.ReadAllText(Path.Combine(dataDir, "vc_encounter.json")).Trim()
            .Replace("\"id\":\"enc-2\"", "\"id\":\"enc-" + n + "\"");
    }

    static int Main(string[] args)
    {
        string data = args.Length > 0 ? args[0] : "tests/c/data";
        Console.Error.WriteLine("libhievc " + Library.Version);
        Check(Library.Version.Split('.').Length == 3, "version");

        // Validation.
        Check(Library.Validate(Encounter(data, 1)).Contains("\"valid\":true"), "valid encounter");
        var report = Library.Validate("{\"resourceType\":\"Encounter\",\"status\":\"arrived\",\"class\":{\"system\":\"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core\",\"code\":\"VR\"}}");
        Check(report.Contains("vc-token-required"), "invalid encounter names the rule");
        Check(Library.ValidateToOperationOutcome(Encounter(data, 1)).Contains("OperationOutcome"), "operation outcome");
        var bad = Throws(() => Library.Validate("{nope"));
        Check(bad != null && bad.Status == Status.InvalidJson && bad.Kind == "invalid_json", "invalid JSON");
        Check(Library.ReadFhir("{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"participant\":[{\"status\":\"accepted\"}],\"slot\":{\"reference\":\"Slot/1\"}}",
            "{\"mode\":\"lenient\"}").Contains("single_for_array"), "lenient read warnings");
        // Non-ASCII text survives the UTF-8 round trip.
        Check(Library.ReadFhir("{\"resourceType\":\"Patient\",\"id\":\"p\",\"name\":[{\"family\":\"Ng\u00e9 \u9ec4\"}]}").Contains("Ng\u00e9 \u9ec4"), "UTF-8 round trip");

        // The client, against HIEVC_FHIR_URL or else the library's embedded sandbox.
        var fhirUrl = Environment.GetEnvironmentVariable("HIEVC_FHIR_URL");
        using (var sandbox = new Sandbox())
        using (var cfg = HievcConfig.FromJson("{\"hie\":{\"url\":\"" + (string.IsNullOrEmpty(fhirUrl) ? sandbox.FhirBase : fhirUrl) + "\"}}"))
        using (var client = new HieClient(cfg))
        {
            using (var offline = HievcConfig.FromJson("{\"hie\":{\"url\":\"http://127.0.0.1:9/fhir\"}}"))
            using (var nowhere = new HieClient(offline))
            {
                var e = Throws(() => nowhere.Read("Patient", "p1", "{\"max_retries\":0,\"request_id\":\"cs-1\"}"));
                Check(e != null && e.Status == Status.Transport, "transport error");
            }
            {
                var id = "cs-" + System.Diagnostics.Process.GetCurrentProcess().Id + "-" + (DateTime.UtcNow.Ticks % 1000000);
                var patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Ismail\"}]}";
                Check(client.Capabilities().Contains("\"fhirVersion\":\"4.0.1\""), "capabilities");
                Check(client.Update(patient).Contains("\"kind\":\"created\""), "update-as-create");
                Check(client.Read("Patient", id).Contains("Ismail"), "read");
                Check(client.Search("Patient", "_id=" + id).Contains(id), "search");
                var e = Throws(() => client.Update(patient, "{\"if_match\":\"9\",\"request_id\":\"cs-stale\"}"));
                Check(e != null && e.Status == Status.PreconditionFailed && e.HttpStatus == 412, "412");
                Check(e != null && e.OperationOutcome != null && e.OperationOutcome.Contains("OperationOutcome"), "outcome kept");
                Check(e != null && e.RequestId == "cs-stale", "request id");
                Check(client.Delete("Patient", id).Contains("\"status\""), "delete");
                var gone = Throws(() => client.Read("Patient", id));
                Check(gone != null && gone.Status == Status.Gone, "gone after delete");
            }
            var invalid = Throws(() => client.Update("{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"status\":\"arrived\",\"class\":{\"system\":\"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core\",\"code\":\"VR\"}}"));
            Check(invalid != null && invalid.Status == Status.Validation && invalid.ErrorJson.Contains("vc-token-required"), "validation before sending");
        }

        // The listener: a C# delegate called on the library's thread.
        using (var broker = new MemoryBroker())
        using (var cfg = HievcConfig.FromToml("[kafka]\ntopics = [\"vc\"]\ngroup = \"dotnet\"\n"))
        {
            for (int n = 1; n <= 3; n++) broker.Send("vc", Encounter(data, n));
            broker.Send("vc", "not json at all");
            var seen = new ConcurrentQueue<string>();
            var threads = new ConcurrentDictionary<int, bool>();
            var failures = new ConcurrentQueue<string>();
            int mainThread = Thread.CurrentThread.ManagedThreadId;
            using (var all = new CountdownEvent(3))
            using (var listener = Listener.Memory(cfg, broker, "{\"metrics_interval_ms\":0}"))
            {
                listener.OnFailure(json => failures.Enqueue(json));
                listener.Start(ev =>
                {
                    seen.Enqueue(ev.EncounterId);
                    threads[Thread.CurrentThread.ManagedThreadId] = true;
                    Check(ev.VcType == "VCI" && ev.Json.Contains("\"vc\":{"), "event content");
                    if (!all.IsSet) all.Signal();
                    return true;
                });
                // Collections provoke the GC: the kept delegate must survive them.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                Check(all.Wait(TimeSpan.FromSeconds(20)), "three Encounters through the delegate");
                for (int i = 0; i < 100 && failures.IsEmpty; i++) Thread.Sleep(50);
                listener.Stop();
                listener.Close();
                listener.Close(); // idempotent
            }
            Check(seen.OrderBy(s => s).SequenceEqual(new[] { "enc-1", "enc-2", "enc-3" }), "ids: " + string.Join(",", seen));
            Check(!threads.ContainsKey(mainThread) && threads.Count >= 1, "callbacks ran on a library thread");
            Check(failures.Any(f => f.Contains("\"reason\":\"decode/not_json\"")), "failure callback: " + string.Join(" | ", failures));
            Check(broker.Committed("dotnet", "vc", 0) == 4, "offsets committed");

            cfg.Set("kafka.group", "dotnet-pull");
            using (var listener = Listener.Memory(cfg, broker))
            {
                int pulled = 0;
                for (int i = 0; i < 20 && pulled < 3; i++)
                {
                    using (var ev = listener.Poll(TimeSpan.FromSeconds(2)))
                    {
                        if (ev == null) continue;
                        Check(ev.Event.EncounterId.StartsWith("enc-"), "polled id");
                        ev.Ack();
                        pulled++;
                    }
                }
                Check(pulled == 3, "polled " + pulled);
                listener.Close();
            }
        }

        // The VC workflow on the sandbox: schedule, book, check-in, the ready-made handler
        // starting the session on the library's thread (a C# delegate gets the result), finish.
        using (var sandbox = new Sandbox())
        using (var cfg = sandbox.Config())
        using (var client = new HieClient(cfg))
        using (var jitsi = new Jitsi(cfg))
        using (var notifier = new Notifier(cfg))
        using (var vc = new VirtualConsultation(client, jitsi, notifier, cfg))
        using (var broker = sandbox.Broker())
        using (var listener = Listener.Memory(cfg, broker, "{\"metrics_interval_ms\":0}"))
        using (var started = new ManualResetEventSlim())
        {
            Func<string, string> vcData = name => File.ReadAllText(Path.Combine(data, "vc", name + ".json"));
            foreach (var r in new[] { "healthcare_service", "practitioner", "patient_1" }) client.Update(vcData(r));
            Check(vc.Schedule(vcData("vci_schedule"), "[" + vcData("vci_slot") + "]").Contains("\"success\":true"), "VCI schedule");
            Check(vc.Book(vcData("vci_appointment"), "vci-slt-ffi").Contains("\"available\":0"), "VCI booked, slot decremented");
            string startedJson = null;
            listener.StartVc(vc, "{\"role\":\"practitioner\",\"id\":\"prac-ffi\",\"name\":\"DR AMINAH\"}", json =>
            {
                startedJson = json;
                started.Set();
            });
            var checkIn = sandbox.CheckIn("vci-app-ffi");
            Check(checkIn.Contains("\"vcType\":\"VCI\""), "check-in");
            Check(started.Wait(TimeSpan.FromSeconds(20)), "session started by the listener");
            Check(startedJson != null && startedJson.Contains("\"notified\":[\"950728106051\"]"), "patient notified: " + startedJson);
            Check(sandbox.Notifications().Contains("950728106051"), "notification recorded");
            listener.Close();
            var id = checkIn.Substring(checkIn.IndexOf("\"encounterId\":\"") + 15);
            id = id.Substring(0, id.IndexOf('"'));
            Check(vc.Finish(id).Contains("\"ended\":\"ended\""), "finished, session ended");
            sandbox.Stop();
        }

        var cfgError = Throws(() => HievcConfig.FromJson("{\"hie\":{\"ulr\":\"x\"}}"));
        Check(cfgError != null && cfgError.Status == Status.Config && cfgError.Message.Contains("ulr"), "config error names the key");
        Library.Shutdown();
        Console.Error.WriteLine("C# sample (CLR " + Environment.Version + "): " + checks + " checks, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}

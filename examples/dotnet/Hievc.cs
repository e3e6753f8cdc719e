// C# binding of libhievc (hie_vc.h) with [DllImport] P/Invoke: runs on Mono and on every .NET.
// (LibraryImport/ holds the source-generated variant for .NET 7+.)
//
// Ownership, as the header's contract says:
// * every native object lives in a SafeHandle subclass whose ReleaseHandle calls the matching
//   hievc_*_free, so a forgotten Dispose is still freed by the finalizer;
// * strings the library returns through `char **` are copied and freed with hievc_string_free
//   at once; borrowed `const char *` are copied while their owner is alive;
// * every failure becomes a HievcException carrying the status, kind, message, HTTP status,
//   OperationOutcome and request id, and the native hievc_error is freed;
// * callback delegates are kept referenced by their Listener until it is closed, so the GC
//   never collects a delegate native code still calls; exceptions never cross back into C.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace HieVc
{
    /// <summary>hievc_status values (explicit, never reused).</summary>
    public enum Status
    {
        Ok = 0, NullArgument = 1, InvalidUtf8 = 2, InvalidJson = 3, Panic = 4, InvalidArgument = 5,
        NoEvent = 6, InvalidState = 7, ShutDown = 8,
        BadRequest = 100, Unauthorized = 101, Forbidden = 102, NotFound = 103, MethodNotAllowed = 104,
        Conflict = 105, Gone = 106, PreconditionFailed = 107, PayloadTooLarge = 108,
        UnsupportedMediaType = 109, Unprocessable = 110, RateLimited = 111, ServerError = 112,
        ServiceUnavailable = 113, GatewayTimeout = 114, Http = 115, Transport = 116, Timeout = 117,
        Decode = 118, Validation = 119, Config = 120, Kafka = 121, Closed = 122, InvalidInput = 123,
        Handler = 124, Tls = 125, Other = 199,
    }

    /// <summary>A failed libhievc call, with everything hievc_error carries.</summary>
    public sealed class HievcException : Exception
    {
        public Status Status { get; }
        public string Kind { get; }
        public int HttpStatus { get; }
        public string OperationOutcome { get; }
        public string RequestId { get; }
        public string ErrorJson { get; }

        internal HievcException(Status status, string kind, string message, int httpStatus,
            string outcome, string requestId, string json)
            : base(message ?? status.ToString())
        {
            Status = status;
            Kind = kind;
            HttpStatus = httpStatus;
            OperationOutcome = outcome;
            RequestId = requestId;
            ErrorJson = json;
        }
    }

    internal abstract class HievcHandle : SafeHandle
    {
        protected HievcHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }
    }

    internal sealed class ConfigHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_config_free(handle); return true; }
    }

    internal sealed class ClientHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_client_free(handle); return true; }
    }

    internal sealed class ValidatorHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_validator_free(handle); return true; }
    }

    internal sealed class BrokerHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_memory_broker_free(handle); return true; }
    }

    internal sealed class ListenerHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_listener_free(handle); return true; }
    }

    internal sealed class EventHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_event_free(handle); return true; }
    }

    internal sealed class JitsiHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_jitsi_free(handle); return true; }
    }

    internal sealed class NotifierHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_notifier_free(handle); return true; }
    }

    internal sealed class VcHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_vc_free(handle); return true; }
    }

    internal sealed class SandboxHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { Native.hievc_sandbox_free(handle); return true; }
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate int EncounterCallback(IntPtr userdata, IntPtr ev);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void StartedCallback(IntPtr userdata, IntPtr startedJson);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    internal delegate void FailureCallback(IntPtr userdata, IntPtr failureJson);

    /// <summary>The C functions. Strings go in as NUL-terminated UTF-8 byte arrays.</summary>
    internal static class Native
    {
        const string Lib = "hievc";

        [DllImport(Lib)] internal static extern IntPtr hievc_version();
        [DllImport(Lib)] internal static extern IntPtr hievc_status_name(int status);
        [DllImport(Lib)] internal static extern void hievc_string_free(IntPtr s);
        [DllImport(Lib)] internal static extern int hievc_shutdown(out IntPtr err);

        [DllImport(Lib)] internal static extern int hievc_error_code(IntPtr err);
        [DllImport(Lib)] internal static extern IntPtr hievc_error_kind(IntPtr err);
        [DllImport(Lib)] internal static extern IntPtr hievc_error_message(IntPtr err);
        [DllImport(Lib)] internal static extern ushort hievc_error_http_status(IntPtr err);
        [DllImport(Lib)] internal static extern IntPtr hievc_error_operation_outcome(IntPtr err);
        [DllImport(Lib)] internal static extern IntPtr hievc_error_request_id(IntPtr err);
        [DllImport(Lib)] internal static extern IntPtr hievc_error_json(IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_error_free(IntPtr err);

        [DllImport(Lib)] internal static extern int hievc_config_new(out ConfigHandle cfg, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_config_from_json(byte[] json, out ConfigHandle cfg, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_config_from_toml(byte[] toml, out ConfigHandle cfg, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_config_set(ConfigHandle cfg, byte[] key, byte[] value, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_config_free(IntPtr cfg);

        [DllImport(Lib)] internal static extern int hievc_client_new(ConfigHandle cfg, out ClientHandle client, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_client_free(IntPtr client);
        [DllImport(Lib)] internal static extern int hievc_client_create(ClientHandle c, byte[] resource, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_read(ClientHandle c, byte[] type, byte[] id, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_vread(ClientHandle c, byte[] type, byte[] id, byte[] vid, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_update(ClientHandle c, byte[] resource, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_delete(ClientHandle c, byte[] type, byte[] id, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_search(ClientHandle c, byte[] type, byte[] query, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_history(ClientHandle c, byte[] type, byte[] id, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_bundle(ClientHandle c, byte[] bundle, byte[] options, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_client_capabilities(ClientHandle c, byte[] options, out IntPtr result, out IntPtr err);

        [DllImport(Lib)] internal static extern int hievc_validate(byte[] resource, out IntPtr report, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_validate_operation_outcome(byte[] resource, out IntPtr outcome, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_validator_new(ConfigHandle cfg, byte[] options, out ValidatorHandle v, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_validator_validate(ValidatorHandle v, byte[] resource, out IntPtr report, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_validator_free(IntPtr v);
        [DllImport(Lib)] internal static extern int hievc_fhir_read(byte[] json, byte[] options, out IntPtr result, out IntPtr err);

        [DllImport(Lib)] internal static extern int hievc_memory_broker_new(out BrokerHandle b, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_memory_broker_send(BrokerHandle b, byte[] topic, byte[] payload, UIntPtr len, byte[] key, int partition, out long offset, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_memory_broker_committed(BrokerHandle b, byte[] group, byte[] topic, int partition, out long offset, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_memory_broker_free(IntPtr b);

        [DllImport(Lib)] internal static extern int hievc_listener_new(ConfigHandle cfg, byte[] options, out ListenerHandle l, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_listener_new_memory(ConfigHandle cfg, BrokerHandle b, byte[] options, out ListenerHandle l, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_listener_set_error_callback(ListenerHandle l, FailureCallback cb, IntPtr userdata, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_listener_start(ListenerHandle l, EncounterCallback cb, IntPtr userdata, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_listener_poll(ListenerHandle l, uint timeoutMs, out EventHandle ev, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_listener_stop(ListenerHandle l, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_listener_close(ListenerHandle l, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_listener_free(IntPtr l);

        [DllImport(Lib)] internal static extern IntPtr hievc_event_json(IntPtr ev);
        [DllImport(Lib)] internal static extern IntPtr hievc_event_encounter_json(IntPtr ev);
        [DllImport(Lib)] internal static extern IntPtr hievc_event_encounter_id(IntPtr ev);
        [DllImport(Lib)] internal static extern IntPtr hievc_event_vc_type(IntPtr ev);
        [DllImport(Lib)] internal static extern IntPtr hievc_event_topic(IntPtr ev);
        [DllImport(Lib)] internal static extern long hievc_event_offset(IntPtr ev);
        [DllImport(Lib)] internal static extern int hievc_event_ack(EventHandle ev, int result, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_event_free(IntPtr ev);

        [DllImport(Lib)] internal static extern int hievc_jitsi_new(ConfigHandle cfg, out JitsiHandle j, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_jitsi_create_session(JitsiHandle j, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_jitsi_join(JitsiHandle j, byte[] token, byte[] participant, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_jitsi_end(JitsiHandle j, byte[] token, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_jitsi_free(IntPtr j);
        [DllImport(Lib)] internal static extern int hievc_notifier_new(ConfigHandle cfg, out NotifierHandle n, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_notifier_send(NotifierHandle n, byte[] title, byte[] body, byte[] ids, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_notifier_free(IntPtr n);

        [DllImport(Lib)] internal static extern int hievc_vc_new(ClientHandle c, JitsiHandle j, NotifierHandle n, ConfigHandle cfg, byte[] options, out VcHandle vc, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_vc_create_session(VcHandle vc, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_vc_schedule(VcHandle vc, byte[] schedule, byte[] slots, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_vc_book(VcHandle vc, byte[] appointment, byte[] slotId, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_vc_start(VcHandle vc, byte[] encounter, byte[] practitioner, byte[] included, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_vc_finish(VcHandle vc, byte[] encounterId, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_vc_free(IntPtr vc);
        [DllImport(Lib)] internal static extern int hievc_listener_start_vc(ListenerHandle l, VcHandle vc, byte[] practitioner, StartedCallback cb, IntPtr userdata, out IntPtr err);

        [DllImport(Lib)] internal static extern int hievc_sandbox_start(byte[] options, out SandboxHandle sb, out IntPtr err);
        [DllImport(Lib)] internal static extern IntPtr hievc_sandbox_fhir_base(SandboxHandle sb);
        [DllImport(Lib)] internal static extern int hievc_sandbox_config(SandboxHandle sb, out ConfigHandle cfg, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_sandbox_broker(SandboxHandle sb, out BrokerHandle b, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_sandbox_check_in(SandboxHandle sb, byte[] appointmentId, byte[] patientId, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_sandbox_notifications(SandboxHandle sb, out IntPtr result, out IntPtr err);
        [DllImport(Lib)] internal static extern int hievc_sandbox_stop(SandboxHandle sb, out IntPtr err);
        [DllImport(Lib)] internal static extern void hievc_sandbox_free(IntPtr sb);
    }

    internal static class Interop
    {
        /// <summary>NUL-terminated UTF-8 (null stays null: the C side takes NULL).</summary>
        internal static byte[] Utf8(string s)
        {
            if (s == null) return null;
            var n = Encoding.UTF8.GetByteCount(s);
            var b = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        /// <summary>Copies a borrowed C string.</summary>
        internal static string Str(IntPtr p)
        {
            if (p == IntPtr.Zero) return null;
            int len = 0;
            while (Marshal.ReadByte(p, len) != 0) len++;
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Copies and frees a string the library handed over.</summary>
        internal static string Take(IntPtr p)
        {
            try { return Str(p); }
            finally { Native.hievc_string_free(p); }
        }

        /// <summary>Throws for a failed status, freeing the native error.</summary>
        internal static void Check(int status, IntPtr err)
        {
            if (status == 0) return;
            try
            {
                throw new HievcException((Status)status,
                    err == IntPtr.Zero ? Str(Native.hievc_status_name(status)) : Str(Native.hievc_error_kind(err)),
                    err == IntPtr.Zero ? null : Str(Native.hievc_error_message(err)),
                    err == IntPtr.Zero ? 0 : Native.hievc_error_http_status(err),
                    err == IntPtr.Zero ? null : Str(Native.hievc_error_operation_outcome(err)),
                    err == IntPtr.Zero ? null : Str(Native.hievc_error_request_id(err)),
                    err == IntPtr.Zero ? null : Str(Native.hievc_error_json(err)));
            }
            finally
            {
                Native.hievc_error_free(err);
            }
        }

        internal static string Result(int status, IntPtr result, IntPtr err)
        {
            Check(status, err);
            return Take(result);
        }
    }

    /// <summary>The library as a whole.</summary>
    public static class Library
    {
        public static string Version { get { return Interop.Str(Native.hievc_version()); } }

        /// <summary>Stops the library's runtime (after every listener is closed).</summary>
        public static void Shutdown()
        {
            IntPtr err;
            Interop.Check(Native.hievc_shutdown(out err), err);
        }

        /// <summary>MY Core validation report (JSON) of a FHIR resource (JSON).</summary>
        public static string Validate(string resourceJson)
        {
            IntPtr report, err;
            return Interop.Result(Native.hievc_validate(Interop.Utf8(resourceJson), out report, out err), report, err);
        }

        /// <summary>The MY Core report as a FHIR OperationOutcome (JSON).</summary>
        public static string ValidateToOperationOutcome(string resourceJson)
        {
            IntPtr oo, err;
            return Interop.Result(Native.hievc_validate_operation_outcome(Interop.Utf8(resourceJson), out oo, out err), oo, err);
        }

        /// <summary>Reads FHIR JSON strictly or leniently: {"resource", "resourceType", "warnings"}.</summary>
        public static string ReadFhir(string json, string optionsJson = null)
        {
            IntPtr result, err;
            return Interop.Result(Native.hievc_fhir_read(Interop.Utf8(json), Interop.Utf8(optionsJson), out result, out err), result, err);
        }
    }

    /// <summary>Settings: the same names as the TOML file and HIE_VC_* variables.</summary>
    public sealed class HievcConfig : IDisposable
    {
        internal readonly ConfigHandle Handle;

        internal HievcConfig(ConfigHandle h) { Handle = h; }

        public static HievcConfig FromJson(string json)
        {
            ConfigHandle h; IntPtr err;
            Interop.Check(Native.hievc_config_from_json(Interop.Utf8(json), out h, out err), err);
            return new HievcConfig(h);
        }

        public static HievcConfig FromToml(string toml)
        {
            ConfigHandle h; IntPtr err;
            Interop.Check(Native.hievc_config_from_toml(Interop.Utf8(toml), out h, out err), err);
            return new HievcConfig(h);
        }

        /// <summary>Sets "section.key" (e.g. "hie.url") from text.</summary>
        public HievcConfig Set(string key, string value)
        {
            IntPtr err;
            Interop.Check(Native.hievc_config_set(Handle, Interop.Utf8(key), Interop.Utf8(value), out err), err);
            return this;
        }

        public void Dispose() { Handle.Dispose(); }
    }

    /// <summary>The HIE FHIR client: resources in and out as FHIR JSON. Thread-safe.</summary>
    public sealed class HieClient : IDisposable
    {
        internal readonly ClientHandle h;

        public HieClient(HievcConfig config)
        {
            IntPtr err;
            Interop.Check(Native.hievc_client_new(config.Handle, out h, out err), err);
        }

        static byte[] U(string s) { return Interop.Utf8(s); }

        public string Create(string resourceJson, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_create(h, U(resourceJson), U(optionsJson), out r, out e), r, e);
        }

        public string Read(string type, string id, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_read(h, U(type), U(id), U(optionsJson), out r, out e), r, e);
        }

        public string VRead(string type, string id, string versionId, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_vread(h, U(type), U(id), U(versionId), U(optionsJson), out r, out e), r, e);
        }

        public string Update(string resourceJson, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_update(h, U(resourceJson), U(optionsJson), out r, out e), r, e);
        }

        public string Delete(string type, string id, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_delete(h, U(type), U(id), U(optionsJson), out r, out e), r, e);
        }

        public string Search(string type, string query, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_search(h, U(type), U(query), U(optionsJson), out r, out e), r, e);
        }

        public string History(string type, string id, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_history(h, U(type), U(id), U(optionsJson), out r, out e), r, e);
        }

        public string SendBundle(string bundleJson, string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_bundle(h, U(bundleJson), U(optionsJson), out r, out e), r, e);
        }

        public string Capabilities(string optionsJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_client_capabilities(h, U(optionsJson), out r, out e), r, e);
        }

        public void Dispose() { h.Dispose(); }
    }

    /// <summary>An in-memory Kafka stand-in (tests, demos, the sandbox).</summary>
    public sealed class MemoryBroker : IDisposable
    {
        internal readonly BrokerHandle Handle;

        public MemoryBroker()
        {
            IntPtr err;
            Interop.Check(Native.hievc_memory_broker_new(out Handle, out err), err);
        }

        internal MemoryBroker(BrokerHandle h) { Handle = h; }

        public long Send(string topic, string payload, string key = null, int partition = -1)
        {
            var bytes = Encoding.UTF8.GetBytes(payload);
            long offset; IntPtr err;
            Interop.Check(Native.hievc_memory_broker_send(Handle, Interop.Utf8(topic), bytes, (UIntPtr)bytes.Length,
                Interop.Utf8(key), partition, out offset, out err), err);
            return offset;
        }

        public long Committed(string group, string topic, int partition)
        {
            long offset; IntPtr err;
            Interop.Check(Native.hievc_memory_broker_committed(Handle, Interop.Utf8(group), Interop.Utf8(topic), partition, out offset, out err), err);
            return offset;
        }

        public void Dispose() { Handle.Dispose(); }
    }

    /// <summary>An Encounter as the listener delivered it (copied out of the native event).</summary>
    public sealed class EncounterEvent
    {
        public string EncounterId { get; private set; }
        public string VcType { get; private set; }
        public string Topic { get; private set; }
        public long Offset { get; private set; }
        public string EncounterJson { get; private set; }
        /// <summary>Everything: VC view, included resources, warnings, record coordinates.</summary>
        public string Json { get; private set; }

        internal static EncounterEvent Copy(IntPtr ev)
        {
            return new EncounterEvent
            {
                EncounterId = Interop.Str(Native.hievc_event_encounter_id(ev)),
                VcType = Interop.Str(Native.hievc_event_vc_type(ev)),
                Topic = Interop.Str(Native.hievc_event_topic(ev)),
                Offset = Native.hievc_event_offset(ev),
                EncounterJson = Interop.Str(Native.hievc_event_encounter_json(ev)),
                Json = Interop.Str(Native.hievc_event_json(ev)),
            };
        }
    }

    /// <summary>A polled event: Ack() it (or Nack()), then Dispose it.</summary>
    public sealed class PolledEvent : IDisposable
    {
        readonly EventHandle h;
        public EncounterEvent Event { get; private set; }

        internal PolledEvent(EventHandle h)
        {
            this.h = h;
            Event = EncounterEvent.Copy(h.DangerousGetHandle());
        }

        public void Ack() { Answer(0); }
        public void Nack() { Answer(1); }

        void Answer(int result)
        {
            IntPtr err;
            Interop.Check(Native.hievc_event_ack(h, result, out err), err);
        }

        public void Dispose() { h.Dispose(); }
    }

    /// <summary>
    /// The Encounter listener. Start(handler): the handler runs on the library's listener thread
    /// and returns true to acknowledge (false: retried, then dead-lettered). Poll(): pull mode.
    /// </summary>
    public sealed class Listener : IDisposable
    {
        readonly ListenerHandle h;
        // The delegates native code calls, kept alive by GC handles until the listener is
        // closed: even a Listener that is never disposed (and finalised in any order) cannot
        // leave native code calling a collected delegate.
        readonly List<GCHandle> keepAlive = new List<GCHandle>();

        Listener(ListenerHandle h) { this.h = h; }

        public static Listener Kafka(HievcConfig config, string optionsJson = null)
        {
            ListenerHandle h; IntPtr err;
            Interop.Check(Native.hievc_listener_new(config.Handle, Interop.Utf8(optionsJson), out h, out err), err);
            return new Listener(h);
        }

        public static Listener Memory(HievcConfig config, MemoryBroker broker, string optionsJson = null)
        {
            ListenerHandle h; IntPtr err;
            Interop.Check(Native.hievc_listener_new_memory(config.Handle, broker.Handle, Interop.Utf8(optionsJson), out h, out err), err);
            return new Listener(h);
        }

        public void OnFailure(Action<string> onFailure)
        {
            FailureCallback cb = (ud, json) =>
            {
                try { onFailure(Interop.Str(json)); }
                catch (Exception) { /* never unwind into C */ }
            };
            keepAlive.Add(GCHandle.Alloc(cb));
            IntPtr err;
            Interop.Check(Native.hievc_listener_set_error_callback(h, cb, IntPtr.Zero, out err), err);
        }

        public void Start(Func<EncounterEvent, bool> handler)
        {
            EncounterCallback cb = (ud, ev) =>
            {
                try { return handler(EncounterEvent.Copy(ev)) ? 0 : 1; }
                catch (Exception) { return 1; }
            };
            keepAlive.Add(GCHandle.Alloc(cb));
            IntPtr err;
            Interop.Check(Native.hievc_listener_start(h, cb, IntPtr.Zero, out err), err);
        }

        /// <summary>
        /// The ready-made VC handler: every arriving VC Encounter is started (practitioner's join,
        /// session activated, patients notified); onStarted gets the result JSON.
        /// </summary>
        public void StartVc(VirtualConsultation vc, string practitionerJson, Action<string> onStarted)
        {
            StartedCallback cb = (ud, json) =>
            {
                try { onStarted(Interop.Str(json)); }
                catch (Exception) { /* never unwind into C */ }
            };
            keepAlive.Add(GCHandle.Alloc(cb));
            IntPtr err;
            Interop.Check(Native.hievc_listener_start_vc(h, vc.Handle, Interop.Utf8(practitionerJson), cb, IntPtr.Zero, out err), err);
        }

        /// <summary>The next event within the timeout, or null.</summary>
        public PolledEvent Poll(TimeSpan timeout)
        {
            EventHandle ev; IntPtr err;
            int st = Native.hievc_listener_poll(h, (uint)timeout.TotalMilliseconds, out ev, out err);
            if (st == (int)Status.NoEvent)
            {
                Native.hievc_error_free(err);
                return null;
            }
            Interop.Check(st, err);
            return new PolledEvent(ev);
        }

        public void Stop()
        {
            IntPtr err;
            Interop.Check(Native.hievc_listener_stop(h, out err), err);
        }

        /// <summary>Stops, commits and leaves the group. Idempotent.</summary>
        public void Close()
        {
            IntPtr err;
            Interop.Check(Native.hievc_listener_close(h, out err), err);
            Release();
        }

        public void Dispose()
        {
            h.Dispose(); // hievc_listener_free closes first when needed
            Release();
        }

        void Release()
        {
            // Closed: the listener thread has ended, no native code holds the delegates.
            foreach (var g in keepAlive) g.Free();
            keepAlive.Clear();
        }
    }

    /// <summary>A Jitsi provider from the [jitsi] settings.</summary>
    public sealed class Jitsi : IDisposable
    {
        internal readonly JitsiHandle Handle;

        public Jitsi(HievcConfig config)
        {
            IntPtr err;
            Interop.Check(Native.hievc_jitsi_new(config.Handle, out Handle, out err), err);
        }

        public string CreateSession()
        {
            IntPtr r, e; return Interop.Result(Native.hievc_jitsi_create_session(Handle, out r, out e), r, e);
        }

        /// <summary>The join URL and token (credentials) of a participant.</summary>
        public string Join(string sessionToken, string participantJson)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_jitsi_join(Handle, Interop.Utf8(sessionToken), Interop.Utf8(participantJson), out r, out e), r, e);
        }

        public string End(string sessionToken)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_jitsi_end(Handle, Interop.Utf8(sessionToken), out r, out e), r, e);
        }

        public void Dispose() { Handle.Dispose(); }
    }

    /// <summary>A Notification API client from the [notify] settings.</summary>
    public sealed class Notifier : IDisposable
    {
        internal readonly NotifierHandle Handle;

        public Notifier(HievcConfig config)
        {
            IntPtr err;
            Interop.Check(Native.hievc_notifier_new(config.Handle, out Handle, out err), err);
        }

        public string Send(string title, string body, string patientIdsJson)
        {
            IntPtr r, e;
            return Interop.Result(Native.hievc_notifier_send(Handle, Interop.Utf8(title), Interop.Utf8(body), Interop.Utf8(patientIdsJson), out r, out e), r, e);
        }

        public void Dispose() { Handle.Dispose(); }
    }

    /// <summary>The VC workflow: schedule, book, start, finish (VCI and VCE).</summary>
    public sealed class VirtualConsultation : IDisposable
    {
        internal readonly VcHandle Handle;

        public VirtualConsultation(HieClient client, Jitsi jitsi, Notifier notifier, HievcConfig config = null)
        {
            IntPtr err;
            Interop.Check(Native.hievc_vc_new(client.h, jitsi.Handle, notifier.Handle,
                config == null ? new ConfigHandle() : config.Handle, null, out Handle, out err), err);
        }

        static byte[] U(string s) { return Interop.Utf8(s); }

        public string CreateSession()
        {
            IntPtr r, e; return Interop.Result(Native.hievc_vc_create_session(Handle, out r, out e), r, e);
        }

        public string Schedule(string scheduleJson, string slotsJson)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_vc_schedule(Handle, U(scheduleJson), U(slotsJson), out r, out e), r, e);
        }

        public string Book(string appointmentJson, string slotId = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_vc_book(Handle, U(appointmentJson), U(slotId), out r, out e), r, e);
        }

        public string Start(string encounterJson, string practitionerJson, string includedJson = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_vc_start(Handle, U(encounterJson), U(practitionerJson), U(includedJson), out r, out e), r, e);
        }

        public string Finish(string encounterId)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_vc_finish(Handle, U(encounterId), out r, out e), r, e);
        }

        public void Dispose() { Handle.Dispose(); }
    }

    /// <summary>The embedded HIE emulator, in this process (an emulator, not HIE).</summary>
    public sealed class Sandbox : IDisposable
    {
        readonly SandboxHandle h;

        public Sandbox(string optionsJson = null)
        {
            IntPtr err;
            Interop.Check(Native.hievc_sandbox_start(Interop.Utf8(optionsJson), out h, out err), err);
        }

        public string FhirBase { get { return Interop.Str(Native.hievc_sandbox_fhir_base(h)); } }

        /// <summary>Settings pointing at the sandbox (hie.url, jitsi.*, notify.*, kafka.topics).</summary>
        public HievcConfig Config()
        {
            ConfigHandle c; IntPtr err;
            Interop.Check(Native.hievc_sandbox_config(h, out c, out err), err);
            return new HievcConfig(c);
        }

        /// <summary>The in-process broker check-ins are published on.</summary>
        public MemoryBroker Broker()
        {
            BrokerHandle b; IntPtr err;
            Interop.Check(Native.hievc_sandbox_broker(h, out b, out err), err);
            return new MemoryBroker(b);
        }

        /// <summary>The patient checks in: the VC Encounter is created and published.</summary>
        public string CheckIn(string appointmentId, string patientId = null)
        {
            IntPtr r, e; return Interop.Result(Native.hievc_sandbox_check_in(h, Interop.Utf8(appointmentId), Interop.Utf8(patientId), out r, out e), r, e);
        }

        public string Notifications()
        {
            IntPtr r, e; return Interop.Result(Native.hievc_sandbox_notifications(h, out r, out e), r, e);
        }

        public void Stop()
        {
            IntPtr err;
            Interop.Check(Native.hievc_sandbox_stop(h, out err), err);
        }

        public void Dispose() { h.Dispose(); }
    }
}

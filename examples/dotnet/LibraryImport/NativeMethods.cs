// The P/Invoke declarations of ../Hievc.cs's `Native` (the Jitsi, notifier, VC and sandbox ones
// abridged to representative calls), for .NET 7+ with the source-generated [LibraryImport]
// (trimming- and AOT-friendly, no runtime marshalling code).
//
// NOT COMPILED OR RUN HERE: the .NET SDK cannot be installed on the build machines, so only the
// [DllImport] sample (../Hievc.cs + ../Program.cs, compiled by Mono's mcs) is tested by
// tests/ffi.sh. To use this file: a net8.0 project with <AllowUnsafeBlocks>true</AllowUnsafeBlocks>,
// this file instead of the `Native` class of Hievc.cs, and the callbacks below instead of
// delegates (LibraryImport does not marshal delegates: C calls [UnmanagedCallersOnly] methods
// through function pointers, which need no keep-alive at all).

using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HieVc.LibraryImportVariant
{
    internal static unsafe partial class NativeMethods
    {
        const string Lib = "hievc";

        [LibraryImport(Lib)] internal static partial IntPtr hievc_version();
        [LibraryImport(Lib)] internal static partial IntPtr hievc_status_name(int status);
        [LibraryImport(Lib)] internal static partial void hievc_string_free(IntPtr s);
        [LibraryImport(Lib)] internal static partial int hievc_shutdown(out IntPtr err);

        [LibraryImport(Lib)] internal static partial int hievc_error_code(IntPtr err);
        [LibraryImport(Lib)] internal static partial IntPtr hievc_error_kind(IntPtr err);
        [LibraryImport(Lib)] internal static partial IntPtr hievc_error_message(IntPtr err);
        [LibraryImport(Lib)] internal static partial ushort hievc_error_http_status(IntPtr err);
        [LibraryImport(Lib)] internal static partial IntPtr hievc_error_operation_outcome(IntPtr err);
        [LibraryImport(Lib)] internal static partial IntPtr hievc_error_request_id(IntPtr err);
        [LibraryImport(Lib)] internal static partial IntPtr hievc_error_json(IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_error_free(IntPtr err);

        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_config_from_json(string json, out ConfigHandle cfg, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_config_from_toml(string toml, out ConfigHandle cfg, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_config_set(ConfigHandle cfg, string key, string value, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_config_free(IntPtr cfg);

        [LibraryImport(Lib)] internal static partial int hievc_client_new(ConfigHandle cfg, out ClientHandle client, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_client_free(IntPtr client);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_create(ClientHandle c, string resource, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_read(ClientHandle c, string type, string id, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_vread(ClientHandle c, string type, string id, string vid, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_update(ClientHandle c, string resource, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_delete(ClientHandle c, string type, string id, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_search(ClientHandle c, string type, string? query, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_history(ClientHandle c, string? type, string? id, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_bundle(ClientHandle c, string bundle, string? options, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_client_capabilities(ClientHandle c, string? options, out IntPtr result, out IntPtr err);

        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_validate(string resource, out IntPtr report, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_validate_operation_outcome(string resource, out IntPtr outcome, out IntPtr err);

        [LibraryImport(Lib)] internal static partial int hievc_memory_broker_new(out BrokerHandle b, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_memory_broker_send(BrokerHandle b, string topic, byte* payload, nuint len, string? key, int partition, out long offset, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_memory_broker_free(IntPtr b);

        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_listener_new(ConfigHandle cfg, string? options, out ListenerHandle l, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_listener_new_memory(ConfigHandle cfg, BrokerHandle b, string? options, out ListenerHandle l, out IntPtr err);
        [LibraryImport(Lib)]
        internal static partial int hievc_listener_start(ListenerHandle l, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> cb, IntPtr userdata, out IntPtr err);
        [LibraryImport(Lib)]
        internal static partial int hievc_listener_set_error_callback(ListenerHandle l, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> cb, IntPtr userdata, out IntPtr err);
        [LibraryImport(Lib)] internal static partial int hievc_listener_poll(ListenerHandle l, uint timeoutMs, out EventHandle ev, out IntPtr err);
        [LibraryImport(Lib)] internal static partial int hievc_listener_stop(ListenerHandle l, out IntPtr err);
        [LibraryImport(Lib)] internal static partial int hievc_listener_close(ListenerHandle l, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_listener_free(IntPtr l);

        [LibraryImport(Lib)] internal static partial IntPtr hievc_event_json(IntPtr ev);
        [LibraryImport(Lib)] internal static partial IntPtr hievc_event_encounter_id(IntPtr ev);
        [LibraryImport(Lib)] internal static partial int hievc_event_ack(EventHandle ev, int result, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_event_free(IntPtr ev);

        [LibraryImport(Lib)] internal static partial int hievc_jitsi_new(ConfigHandle cfg, out IntPtr j, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_jitsi_join(IntPtr j, string token, string participant, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_jitsi_free(IntPtr j);
        [LibraryImport(Lib)] internal static partial int hievc_notifier_new(ConfigHandle cfg, out IntPtr n, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_notifier_send(IntPtr n, string title, string body, string idsJson, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_notifier_free(IntPtr n);
        [LibraryImport(Lib)]
        internal static partial int hievc_vc_new(ClientHandle c, IntPtr jitsi, IntPtr notifier, ConfigHandle? cfg, IntPtr options, out IntPtr vc, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_vc_book(IntPtr vc, string appointment, string? slotId, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_vc_finish(IntPtr vc, string encounterId, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_vc_free(IntPtr vc);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_listener_start_vc(ListenerHandle l, IntPtr vc, string practitioner, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> onStarted, IntPtr userdata, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_sandbox_start(string? options, out IntPtr sandbox, out IntPtr err);
        [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int hievc_sandbox_check_in(IntPtr sandbox, string appointmentId, string? patientId, out IntPtr result, out IntPtr err);
        [LibraryImport(Lib)] internal static partial int hievc_sandbox_stop(IntPtr sandbox, out IntPtr err);
        [LibraryImport(Lib)] internal static partial void hievc_sandbox_free(IntPtr sandbox);
    }

    internal abstract class HievcHandle : SafeHandle
    {
        protected HievcHandle() : base(IntPtr.Zero, true) { }
        public override bool IsInvalid => handle == IntPtr.Zero;
    }

    internal sealed class ConfigHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.hievc_config_free(handle); return true; }
    }

    internal sealed class ClientHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.hievc_client_free(handle); return true; }
    }

    internal sealed class BrokerHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.hievc_memory_broker_free(handle); return true; }
    }

    internal sealed class ListenerHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.hievc_listener_free(handle); return true; }
    }

    internal sealed class EventHandle : HievcHandle
    {
        protected override bool ReleaseHandle() { NativeMethods.hievc_event_free(handle); return true; }
    }

    /// <summary>
    /// Callbacks as [UnmanagedCallersOnly] methods: C calls them through a plain function
    /// pointer, so there is no delegate to keep alive. The host's state travels in `userdata`
    /// (a GCHandle of the handler, freed after hievc_listener_close).
    /// </summary>
    internal static unsafe class Callbacks
    {
        [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
        internal static int OnEncounter(IntPtr userdata, IntPtr ev)
        {
            try
            {
                var handler = (Func<string, bool>)GCHandle.FromIntPtr(userdata).Target!;
                return handler(Marshal.PtrToStringUTF8(NativeMethods.hievc_event_json(ev))!) ? 0 : 1;
            }
            catch
            {
                return 1; // never unwind into C
            }
        }

        /// <summary>Starts `listener`, delivering each event's JSON to `handler`.</summary>
        internal static GCHandle Start(ListenerHandle listener, Func<string, bool> handler)
        {
            var state = GCHandle.Alloc(handler);
            int st = NativeMethods.hievc_listener_start(listener, &OnEncounter, GCHandle.ToIntPtr(state), out var err);
            if (st != 0)
            {
                state.Free();
                var message = Marshal.PtrToStringUTF8(NativeMethods.hievc_error_message(err));
                NativeMethods.hievc_error_free(err);
                throw new InvalidOperationException(message);
            }
            return state; // free it after hievc_listener_close
        }
    }
}

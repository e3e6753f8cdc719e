// libhievc from Java 25 through the Foreign Function & Memory API (java.lang.foreign), as a
// single-file program:
//
//   java --enable-native-access=ALL-UNNAMED -Dhievc.lib=/path/libhievc.so tests/java/HievcTest.java
//
// It drives the HIE client (against HIEVC_FHIR_URL when set, else the embedded sandbox),
// validates resources, reads the rich error, and receives Encounter callbacks on the library's
// own listener thread (an upcall), then pulls events with hievc_listener_poll. Exit code 0 when
// every check passed.

import java.lang.foreign.*;
import java.lang.invoke.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;

import static java.lang.foreign.ValueLayout.*;

public class HievcTest {
    static final Linker LINKER = Linker.nativeLinker();
    static final Arena LIB_ARENA = Arena.ofShared();
    static SymbolLookup LIB;

    static int checks = 0, failed = 0;

    static void check(boolean ok, String what) {
        checks++;
        if (!ok) {
            failed++;
            System.err.println("  FAIL " + what);
        }
    }

    static MethodHandle fn(String name, MemoryLayout ret, MemoryLayout... args) {
        MemorySegment sym = LIB.find(name).orElseThrow(() -> new IllegalStateException("missing symbol " + name));
        FunctionDescriptor fd = ret == null ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(ret, args);
        return LINKER.downcallHandle(sym, fd);
    }

    // ---- the C functions used here ----
    static MethodHandle version, statusName, stringFree, errorFree, errorKind, errorMessage, errorHttpStatus,
            errorOutcome, errorJson, configFromJson, configSet, configFree, clientNew, clientFree, clientRead,
            clientUpdate, clientCapabilities, validate, brokerNew, brokerSend, brokerFree, brokerCommitted,
            listenerNewMemory, listenerStart, listenerPoll, listenerStop, listenerClose, listenerFree,
            eventId, eventVcType, eventJson, eventAck, eventFree, shutdown, sandboxStart, sandboxFhirBase,
            sandboxStop, sandboxFree;

    static void bind() {
        version = fn("hievc_version", ADDRESS);
        statusName = fn("hievc_status_name", ADDRESS, JAVA_INT);
        stringFree = fn("hievc_string_free", null, ADDRESS);
        errorFree = fn("hievc_error_free", null, ADDRESS);
        errorKind = fn("hievc_error_kind", ADDRESS, ADDRESS);
        errorMessage = fn("hievc_error_message", ADDRESS, ADDRESS);
        errorHttpStatus = fn("hievc_error_http_status", JAVA_SHORT, ADDRESS);
        errorOutcome = fn("hievc_error_operation_outcome", ADDRESS, ADDRESS);
        errorJson = fn("hievc_error_json", ADDRESS, ADDRESS);
        configFromJson = fn("hievc_config_from_json", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        configSet = fn("hievc_config_set", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        configFree = fn("hievc_config_free", null, ADDRESS);
        clientNew = fn("hievc_client_new", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        clientFree = fn("hievc_client_free", null, ADDRESS);
        clientRead = fn("hievc_client_read", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        clientUpdate = fn("hievc_client_update", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        clientCapabilities = fn("hievc_client_capabilities", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        validate = fn("hievc_validate", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        brokerNew = fn("hievc_memory_broker_new", JAVA_INT, ADDRESS, ADDRESS);
        brokerSend = fn("hievc_memory_broker_send", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        brokerFree = fn("hievc_memory_broker_free", null, ADDRESS);
        brokerCommitted = fn("hievc_memory_broker_committed", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        listenerNewMemory = fn("hievc_listener_new_memory", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        listenerStart = fn("hievc_listener_start", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        listenerPoll = fn("hievc_listener_poll", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        listenerStop = fn("hievc_listener_stop", JAVA_INT, ADDRESS, ADDRESS);
        listenerClose = fn("hievc_listener_close", JAVA_INT, ADDRESS, ADDRESS);
        listenerFree = fn("hievc_listener_free", null, ADDRESS);
        eventId = fn("hievc_event_encounter_id", ADDRESS, ADDRESS);
        eventVcType = fn("hievc_event_vc_type", ADDRESS, ADDRESS);
        eventJson = fn("hievc_event_json", ADDRESS, ADDRESS);
        eventAck = fn("hievc_event_ack", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        eventFree = fn("hievc_event_free", null, ADDRESS);
        shutdown = fn("hievc_shutdown", JAVA_INT, ADDRESS);
        sandboxStart = fn("hievc_sandbox_start", JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        sandboxFhirBase = fn("hievc_sandbox_fhir_base", ADDRESS, ADDRESS);
        sandboxStop = fn("hievc_sandbox_stop", JAVA_INT, ADDRESS, ADDRESS);
        sandboxFree = fn("hievc_sandbox_free", null, ADDRESS);
    }

    // ---- helpers ----
    static String str(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? null : p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Takes an owned `char *` from an out-parameter, copies it and frees it. */
    static String take(MemorySegment out) throws Throwable {
        MemorySegment p = out.get(ADDRESS, 0);
        String s = str(p);
        stringFree.invokeExact(p);
        return s;
    }

    /** The status name and the message of the error in `err` (freed), for messages. */
    static String errorText(MemorySegment errOut) throws Throwable {
        MemorySegment e = errOut.get(ADDRESS, 0);
        if (e.equals(MemorySegment.NULL)) return "(no error)";
        String s = str((MemorySegment) errorKind.invokeExact(e)) + ": " + str((MemorySegment) errorMessage.invokeExact(e));
        errorFree.invokeExact(e);
        errOut.set(ADDRESS, 0, MemorySegment.NULL);
        return s;
    }

    /** The `hievc_error **` every call here passes. */
    static final MemorySegment ERR = LIB_ARENA.allocate(ADDRESS);

    static void ok(int status, String what) throws Throwable {
        check(status == 0, what + " -> " + str((MemorySegment) statusName.invokeExact(status)) + " " + (status == 0 ? "" : errorText(ERR)));
    }

    static String encounter(int n) throws Exception {
        String dir = System.getProperty("hievc.data", "tests/c/data");
        String t = Files.readString(Path.of(dir, "vc_encounter.json")).strip();
        return t.replace("\"id\":\"enc-2\"", "\"id\":\"enc-" + n + "\"");
    }

    // ---- the Encounter callback (an upcall on the library's listener thread) ----
    static final ConcurrentLinkedQueue<String> SEEN = new ConcurrentLinkedQueue<>();
    static final Set<String> THREADS = ConcurrentHashMap.newKeySet();
    static final CountDownLatch THREE = new CountDownLatch(3);
    static final AtomicInteger CALLBACK_ERRORS = new AtomicInteger();

    static int onEncounter(MemorySegment userdata, MemorySegment ev) {
        // Nothing may be thrown out of an upcall: the JVM would terminate.
        try {
            String id = str((MemorySegment) eventId.invokeExact(ev));
            String type = str((MemorySegment) eventVcType.invokeExact(ev));
            String json = str((MemorySegment) eventJson.invokeExact(ev));
            if (type == null || !json.contains("\"vc\":{")) CALLBACK_ERRORS.incrementAndGet();
            SEEN.add(id);
            THREADS.add(Thread.currentThread().getName() + "#" + Thread.currentThread().threadId());
            THREE.countDown();
            return 0;
        } catch (Throwable t) {
            CALLBACK_ERRORS.incrementAndGet();
            return 1;
        }
    }

    public static void main(String[] args) throws Throwable {
        String lib = System.getProperty("hievc.lib");
        if (lib == null) throw new IllegalStateException("-Dhievc.lib=/path/to/libhievc.so is required");
        LIB = SymbolLookup.libraryLookup(Path.of(lib), LIB_ARENA);
        bind();

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = ERR;
            MemorySegment out = arena.allocate(ADDRESS);

            String v = str((MemorySegment) version.invokeExact());
            check(v != null && v.matches("\\d+\\.\\d+\\.\\d+"), "version " + v);

            // Validation: a valid VC Encounter, an invalid one, invalid JSON.
            ok((int) validate.invokeExact(arena.allocateFrom(encounter(1)), out, err), "validate");
            check(take(out).contains("\"valid\":true"), "valid encounter reported valid");
            ok((int) validate.invokeExact(arena.allocateFrom("{\"resourceType\":\"Encounter\",\"status\":\"arrived\",\"class\":{\"system\":\"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core\",\"code\":\"VR\"}}"), out, err), "validate invalid");
            check(take(out).contains("vc-token-required"), "invalid encounter names the rule");
            int st = (int) validate.invokeExact(arena.allocateFrom("{not json"), out, err);
            check(st == 3, "invalid JSON -> HIEVC_INVALID_JSON, got " + st);
            MemorySegment e = err.get(ADDRESS, 0);
            check(!e.equals(MemorySegment.NULL) && "invalid_json".equals(str((MemorySegment) errorKind.invokeExact(e))), "error kind invalid_json");
            errorFree.invokeExact(e);
            err.set(ADDRESS, 0, MemorySegment.NULL);

            // The HIE client, against HIEVC_FHIR_URL or else the library's embedded sandbox.
            String fhirUrl = System.getenv("HIEVC_FHIR_URL");
            MemorySegment sandbox = MemorySegment.NULL;
            if (fhirUrl == null || fhirUrl.isEmpty()) {
                MemorySegment sbOut = arena.allocate(ADDRESS);
                ok((int) sandboxStart.invokeExact(MemorySegment.NULL, sbOut, err), "sandbox start");
                sandbox = sbOut.get(ADDRESS, 0);
                fhirUrl = str((MemorySegment) sandboxFhirBase.invokeExact(sandbox));
                System.err.println("-- client against the embedded sandbox at " + fhirUrl + " (HIEVC_FHIR_URL is not set)");
            }
            MemorySegment cfgOut = arena.allocate(ADDRESS);
            ok((int) configFromJson.invokeExact(arena.allocateFrom("{\"hie\":{\"url\":\"" + fhirUrl + "\"}}"), cfgOut, err), "config");
            MemorySegment cfg = cfgOut.get(ADDRESS, 0);
            MemorySegment clientOut = arena.allocate(ADDRESS);
            ok((int) clientNew.invokeExact(cfg, clientOut, err), "client_new");
            MemorySegment client = clientOut.get(ADDRESS, 0);
            {
                String id = "java-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis() % 100000;
                String patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Abdullah\"}]}";
                ok((int) clientCapabilities.invokeExact(client, MemorySegment.NULL, out, err), "capabilities");
                check(take(out).contains("\"fhirVersion\":\"4.0.1\""), "fhir version");
                ok((int) clientUpdate.invokeExact(client, arena.allocateFrom(patient), MemorySegment.NULL, out, err), "update-as-create");
                check(take(out).contains("\"kind\":\"created\""), "created");
                ok((int) clientRead.invokeExact(client, arena.allocateFrom("Patient"), arena.allocateFrom(id), MemorySegment.NULL, out, err), "read");
                check(take(out).contains("Abdullah"), "read back");
                st = (int) clientUpdate.invokeExact(client, arena.allocateFrom(patient.replace("Abdullah", "Rahman")),
                        arena.allocateFrom("{\"if_match\":\"7\"}"), out, err);
                check(st == 107, "stale If-Match -> HIEVC_PRECONDITION_FAILED, got " + st);
                e = err.get(ADDRESS, 0);
                check((short) errorHttpStatus.invokeExact(e) == 412, "http status 412");
                String oo = str((MemorySegment) errorOutcome.invokeExact(e));
                check(oo != null && oo.contains("OperationOutcome"), "OperationOutcome kept");
                check(str((MemorySegment) errorJson.invokeExact(e)).contains("\"statusName\":\"precondition_failed\""), "error json");
                errorFree.invokeExact(e);
                err.set(ADDRESS, 0, MemorySegment.NULL);
                st = (int) clientRead.invokeExact(client, arena.allocateFrom("Patient"), arena.allocateFrom("nobody-" + id), MemorySegment.NULL, out, err);
                check(st == 103, "unknown id -> HIEVC_NOT_FOUND, got " + st);
                errorText(err);
            }
            clientFree.invokeExact(client);

            // The listener: Encounters through an upcall on the library's thread, then by polling.
            MemorySegment brokerOut = arena.allocate(ADDRESS);
            ok((int) brokerNew.invokeExact(brokerOut, err), "broker");
            MemorySegment broker = brokerOut.get(ADDRESS, 0);
            for (int n = 1; n <= 3; n++) {
                byte[] payload = encounter(n).getBytes(StandardCharsets.UTF_8);
                MemorySegment p = arena.allocate(payload.length);
                p.copyFrom(MemorySegment.ofArray(payload));
                ok((int) brokerSend.invokeExact(broker, arena.allocateFrom("vc"), p, (long) payload.length,
                        MemorySegment.NULL, -1, MemorySegment.NULL, err), "send " + n);
            }
            ok((int) configSet.invokeExact(cfg, arena.allocateFrom("kafka.topics"), arena.allocateFrom("vc"), err), "topics");
            ok((int) configSet.invokeExact(cfg, arena.allocateFrom("kafka.group"), arena.allocateFrom("java"), err), "group");
            MemorySegment lOut = arena.allocate(ADDRESS);
            ok((int) listenerNewMemory.invokeExact(cfg, broker, arena.allocateFrom("{\"metrics_interval_ms\":0}"), lOut, err), "listener");
            MemorySegment listener = lOut.get(ADDRESS, 0);
            MethodHandle target = MethodHandles.lookup().findStatic(HievcTest.class, "onEncounter",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment upcall = LINKER.upcallStub(target, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), LIB_ARENA);
            ok((int) listenerStart.invokeExact(listener, upcall, MemorySegment.NULL, err), "start");
            check(THREE.await(20, TimeUnit.SECONDS), "three Encounters through the callback");
            ok((int) listenerStop.invokeExact(listener, err), "stop");
            ok((int) listenerClose.invokeExact(listener, err), "close");
            ok((int) listenerClose.invokeExact(listener, err), "close again");
            listenerFree.invokeExact(listener);
            check(new HashSet<>(SEEN).equals(Set.of("enc-1", "enc-2", "enc-3")), "ids " + SEEN);
            check(CALLBACK_ERRORS.get() == 0, "callback saw complete events");
            String mainThread = Thread.currentThread().getName() + "#" + Thread.currentThread().threadId();
            check(!THREADS.isEmpty() && !THREADS.contains(mainThread), "callbacks ran on a library thread: " + THREADS);
            MemorySegment committed = arena.allocate(JAVA_LONG);
            ok((int) brokerCommitted.invokeExact(broker, arena.allocateFrom("java"), arena.allocateFrom("vc"), 0, committed, err), "committed");
            check(committed.get(JAVA_LONG, 0) == 3, "offsets committed: " + committed.get(JAVA_LONG, 0));

            // Pull mode with another group.
            ok((int) configSet.invokeExact(cfg, arena.allocateFrom("kafka.group"), arena.allocateFrom("java-pull"), err), "group 2");
            ok((int) listenerNewMemory.invokeExact(cfg, broker, MemorySegment.NULL, lOut, err), "listener 2");
            listener = lOut.get(ADDRESS, 0);
            MemorySegment evOut = arena.allocate(ADDRESS);
            int pulled = 0;
            for (int i = 0; i < 20 && pulled < 3; i++) {
                st = (int) listenerPoll.invokeExact(listener, 2000, evOut, err);
                if (st == 6) continue; // HIEVC_NO_EVENT
                ok(st, "poll");
                MemorySegment ev = evOut.get(ADDRESS, 0);
                check(str((MemorySegment) eventId.invokeExact(ev)).startsWith("enc-"), "polled id");
                ok((int) eventAck.invokeExact(ev, 0, err), "ack");
                eventFree.invokeExact(ev);
                pulled++;
            }
            check(pulled == 3, "three Encounters polled, got " + pulled);
            ok((int) listenerClose.invokeExact(listener, err), "close 2");
            listenerFree.invokeExact(listener);
            brokerFree.invokeExact(broker);
            configFree.invokeExact(cfg);
            if (!sandbox.equals(MemorySegment.NULL)) {
                ok((int) sandboxStop.invokeExact(sandbox, err), "sandbox stop");
                sandboxFree.invokeExact(sandbox);
            }
            ok((int) shutdown.invokeExact(err), "shutdown");
        }
        System.err.println("HievcTest (Java " + Runtime.version() + "): " + checks + " checks, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}

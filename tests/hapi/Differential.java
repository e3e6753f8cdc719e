// HAPI FHIR's validator, offline, with the MY Core IG's profiles and terminology: the reference
// side of the differential test (tests/hapi/run.sh). For each input file it prints one JSON
// line {"file", "issues": [{"severity", "location", "messageId", "message"}]}.
//
// Each MY Core resource (alone, or an entry of a Bundle) is validated against its MY Core
// profile (Appointment-my-core, ...), as HIE does; the Bundle itself against base R4. Snapshots
// are generated from the IG's differentials; code systems the IG does not publish (and that
// HAPI does not know) are warnings, not errors.

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationOptions;
import ca.uhn.fhir.validation.ValidationResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.instance.model.api.IBaseResource;

public class Differential {
    static final String PROFILE_BASE = "http://fhir.hie.moh.gov.my/StructureDefinition/";
    static final List<String> PROFILED = List.of("Appointment", "Encounter", "Schedule", "Slot");

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Differential IG_DIR FILE...");
            System.exit(2);
        }
        Path ig = Path.of(args[0]);
        FhirContext ctx = FhirContext.forR4();
        IParser parser = ctx.newJsonParser();
        PrePopulatedValidationSupport igSupport = new PrePopulatedValidationSupport(ctx);
        for (String dir : List.of("profiles", "terminology")) {
            try (Stream<Path> files = Files.list(ig.resolve(dir))) {
                for (Path p : files.sorted().toList()) {
                    IBaseResource r = parser.parseResource(Files.readString(p));
                    if (r instanceof StructureDefinition sd) {
                        igSupport.addStructureDefinition(sd);
                    } else if (r instanceof CodeSystem cs) {
                        igSupport.addCodeSystem(cs);
                    } else if (r instanceof ValueSet vs) {
                        igSupport.addValueSet(vs);
                    }
                }
            }
        }
        UnknownCodeSystemWarningValidationSupport unknown = new UnknownCodeSystemWarningValidationSupport(ctx);
        unknown.setNonExistentCodeSystemSeverity(
                org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport.IssueSeverity.WARNING);
        ValidationSupportChain chain = new ValidationSupportChain(
                igSupport,
                new DefaultProfileValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new CommonCodeSystemsTerminologyService(ctx),
                unknown);
        // Snapshots once, up front, stored with the profiles: generated lazily they are made
        // again for every resource validated (seconds each).
        ca.uhn.fhir.context.support.ValidationSupportContext vctx =
                new ca.uhn.fhir.context.support.ValidationSupportContext(chain);
        SnapshotGeneratingValidationSupport snap = new SnapshotGeneratingValidationSupport(ctx);
        for (Object r : new ArrayList<Object>(igSupport.fetchAllStructureDefinitions())) {
            StructureDefinition sd = (StructureDefinition) r;
            if (!sd.hasSnapshot()) {
                StructureDefinition full = (StructureDefinition) snap.generateSnapshot(vctx, sd, sd.getUrl(), null, sd.getName());
                if (full != null) {
                    igSupport.addStructureDefinition(full);
                }
            }
        }
        chain.invalidateCaches();
        FhirInstanceValidator module = new FhirInstanceValidator(chain);
        module.setAnyExtensionsAllowed(true);
        FhirValidator validator = ctx.newValidator().registerValidatorModule(module);
        // Timed: the differential's own cost goes in tests/VALIDATION.md.
        long t0 = System.nanoTime();
        int n = 0;
        for (int i = 1; i < args.length; i++) {
            String file = args[i];
            String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            List<String> issues = new ArrayList<>();
            IBaseResource res;
            try {
                res = parser.parseResource(text);
            } catch (Exception e) {
                issues.add(issue("fatal", "", "PARSE", e.getMessage()));
                System.out.println("{\"file\":" + q(file) + ",\"issues\":[" + String.join(",", issues) + "]}");
                continue;
            }
            if (res instanceof Bundle b) {
                collect(validator.validateWithResult(text), "", issues, true);
                for (int e = 0; e < b.getEntry().size(); e++) {
                    Resource r = b.getEntry().get(e).getResource();
                    if (r == null || !PROFILED.contains(r.fhirType())) {
                        continue;
                    }
                    String entryJson = parser.encodeResourceToString(r);
                    String prefix = "Bundle.entry[" + e + "].resource";
                    collect(validate(validator, entryJson, r.fhirType()), prefix, issues, false);
                }
            } else {
                collect(validate(validator, text, res.fhirType()), "", issues, false);
            }
            n++;
            System.out.println("{\"file\":" + q(file) + ",\"issues\":[" + String.join(",", issues) + "]}");
        }
        System.err.printf("hapi: validated %d files in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
    }

    static ValidationResult validate(FhirValidator v, String json, String type) {
        ValidationOptions o = new ValidationOptions();
        if (PROFILED.contains(type)) {
            o.addProfile(PROFILE_BASE + type + "-my-core");
        }
        return v.validateWithResult(json, o);
    }

    /** Keeps the issues; a Bundle's own run keeps only what is outside its entries' resources. */
    static void collect(ValidationResult r, String prefix, List<String> out, boolean bundleLevel) {
        for (SingleValidationMessage m : r.getMessages()) {
            String loc = m.getLocationString() == null ? "" : m.getLocationString();
            if (bundleLevel && loc.matches("^Bundle\\.entry\\[\\d+\\]\\.resource.*")) {
                continue;
            }
            if (!prefix.isEmpty()) {
                int dot = loc.indexOf('.');
                loc = prefix + (dot >= 0 ? loc.substring(dot) : "");
            }
            String sev = m.getSeverity() == null ? "information" : m.getSeverity().getCode();
            out.add(issue(sev, loc, m.getMessageId() == null ? "" : m.getMessageId(), m.getMessage()));
        }
    }

    static String issue(String sev, String loc, String id, String msg) {
        return "{\"severity\":" + q(sev) + ",\"location\":" + q(loc) + ",\"messageId\":" + q(id)
                + ",\"message\":" + q(msg == null ? "" : msg) + "}";
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}

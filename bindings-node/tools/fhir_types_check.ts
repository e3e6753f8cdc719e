// Type-checks bindings-node/fhir.d.ts against hand-written uses (and two mistakes it must refuse):
//   npx -y -p typescript@5 tsc --noEmit --strict --target es2020 bindings-node/tools/fhir_types_check.ts
import type { Encounter, AnyResource, Bundle, Extension, Patient } from "../fhir";

const enc: Encounter = {
  resourceType: "Encounter",
  status: "in-progress",
  class: { system: "http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core", code: "VR" },
  serviceType: { coding: [{ code: "VCI" }] },
  participant: [{ individual: { reference: "PractitionerRole/1" } }],
  _status: { extension: [{ url: "http://x", valueString: "y" }] },
};
const code: string | undefined = enc.serviceType?.coding?.[0]?.code;
const ext: Extension = { url: "http://e", valueQuantity: { value: 1.5, unit: "kg" } };
const p: Patient = { resourceType: "Patient", deceasedBoolean: false, name: [{ given: ["A"] }], _birthDate: { id: "b" } };
const b: Bundle = { resourceType: "Bundle", type: "collection", entry: [{ resource: enc }, { resource: { resourceType: "Observation", id: "o" } }] };
function describe(r: AnyResource): string {
  if (r.resourceType === "Encounter") {
    return String((r as Encounter).status);
  }
  return r.resourceType;
}
// @ts-expect-error: class is required on an Encounter
const bad: Encounter = { resourceType: "Encounter", status: "finished" };
// @ts-expect-error: a Coding is not an array
const bad2: Encounter = { resourceType: "Encounter", status: "finished", class: [{ code: "VR" }] };
console.log(code, ext, p, b, describe(enc), bad, bad2);

"""Synthetic MY Core VC Encounters for the listener tests and the benchmark: the same shape and
size (~1.5 KB) as the Rust suite's (core/tests/listener_support/encounters.rs), fake people."""

from __future__ import annotations


def vc_encounter(n: int, version: int = 1) -> bytes:
    """A VC Encounter (VCI, or VCE for odd ``n``) with id ``enc-{n}``, as HIE writes it."""
    code, display = ("VCI", "Individual Virtual Consultation") if n % 2 == 0 else ("VCE", "Education Virtual Consultation")
    p = n % 97
    return (
        '{"resourceType":"Encounter","id":"enc-%(n)d","meta":{"versionId":"%(v)d","lastUpdated":"2024-03-05T10:15:30.123+08:00","source":'
        '"http://hie.moh.gov.my/vc","profile":["http://fhir.hie.moh.gov.my/StructureDefinition/Encounter-my-core"]},'
        '"extension":[{"url":"http://fhir.hie.moh.gov.my/StructureDefinition/vr-status-my-core","valueCodeableConcept":{"coding":[{"code":"waiting","display":"Waiting"}]}}],'
        '"identifier":[{"system":"http://fhir.hie.moh.gov.my/sid/vc-token","value":"%(n)08x-6c4d-485a-9514-cbf6ccfeed6b"},'
        '{"system":"http://fhir.hie.moh.gov.my/sid/encounter-id","value":"HTJ-ENC-%(n)010d"}],'
        '"status":"arrived",'
        '"class":{"system":"http://fhir.hie.moh.gov.my/CodeSystem/encounter-class-my-core","code":"VR","display":"Virtual"},'
        '"type":[{"coding":[{"system":"http://fhir.hie.moh.gov.my/CodeSystem/specialty-my-core","code":"86","display":"Addiction & Substance Abuse"}]}],'
        '"serviceType":{"coding":[{"system":"http://fhir.hie.moh.gov.my/CodeSystem/service-type-my-core","code":"%(code)s","display":"%(display)s"}]},'
        '"subject":{"reference":"Patient/pt-%(n)d","type":"Patient","display":"Test Patient %(n)d"},'
        '"participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PPRF","display":"primary performer"}]}],'
        '"individual":{"reference":"Practitioner/pr-%(p)d","type":"Practitioner","display":"Dr Test %(p)d"}}],'
        '"appointment":[{"reference":"Appointment/ap-%(n)d"}],"period":{"start":"2024-03-05T10:15:30+08:00"},'
        '"serviceProvider":{"reference":"Organization/11-05060009","display":"Hospital Test"}}'
        % {"n": n, "v": version, "p": p, "code": code, "display": display}
    ).encode()

//! Typed status codes of the resources VC uses.

fhir_code! {
    /// `AppointmentStatus`.
    AppointmentStatus {
        Proposed = "proposed", Pending = "pending", Booked = "booked", Arrived = "arrived",
        Fulfilled = "fulfilled", Cancelled = "cancelled", Noshow = "noshow",
        EnteredInError = "entered-in-error", CheckedIn = "checked-in", Waitlist = "waitlist",
    }
}

fhir_code! {
    /// `ParticipationStatus` (Appointment.participant.status).
    ParticipationStatus { Accepted = "accepted", Declined = "declined", Tentative = "tentative", NeedsAction = "needs-action" }
}

fhir_code! {
    /// `ParticipantRequired`.
    ParticipantRequired { Required = "required", Optional = "optional", InformationOnly = "information-only" }
}

fhir_code! {
    /// `EncounterStatus` (R4; MY Core restricts VC Encounters to arrived | in-progress | finished | unknown).
    EncounterStatus {
        Planned = "planned", Arrived = "arrived", Triaged = "triaged", InProgress = "in-progress",
        Onleave = "onleave", Finished = "finished", Cancelled = "cancelled",
        EnteredInError = "entered-in-error", Unknown = "unknown",
    }
}

fhir_code! {
    /// `SlotStatus`.
    SlotStatus { Busy = "busy", Free = "free", BusyUnavailable = "busy-unavailable", BusyTentative = "busy-tentative", EnteredInError = "entered-in-error" }
}

fhir_code! {
    /// `BundleType`.
    BundleType {
        Document = "document", Message = "message", Transaction = "transaction",
        TransactionResponse = "transaction-response", Batch = "batch", BatchResponse = "batch-response",
        History = "history", Searchset = "searchset", Collection = "collection",
    }
}

fhir_code! {
    /// `HTTPVerb` (Bundle.entry.request.method).
    HttpVerb { Get = "GET", Head = "HEAD", Post = "POST", Put = "PUT", Delete = "DELETE", Patch = "PATCH" }
}

fhir_code! {
    /// `SearchEntryMode`.
    SearchEntryMode { Match = "match", Include = "include", Outcome = "outcome" }
}

fhir_code! {
    /// `IssueSeverity`.
    IssueSeverity { Fatal = "fatal", Error = "error", Warning = "warning", Information = "information" }
}

fhir_code! {
    /// `AdministrativeGender`.
    AdministrativeGender { Male = "male", Female = "female", Other_ = "other", Unknown = "unknown" }
}

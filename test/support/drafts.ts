import type { RegistrationDraft } from "../../src/domain/citizens/citizen-service.js";

/** A complete registration as the flow hands it to the service; override what a test is about. */
export const draft = (over: Partial<RegistrationDraft> = {}): RegistrationDraft => ({
  consentVersion: "v-test", consentAt: "2026-11-23T02:59:00.000Z", fullName: "Nguyễn Thị Hoa", birthYear: 1985,
  provinceCode: "08", communeCode: "00715", affiliation: "resident", goals: ["law", "digital"], ...over,
});

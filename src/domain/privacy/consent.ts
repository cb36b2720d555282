/**
 * Version of the personal-data notice shown before registration (Decree 13/2023/NĐ-CP).
 * Bump it whenever the notice text in locales/*\/privacy.json changes in substance: the stored
 * consent says which text the person agreed to.
 */
export const CONSENT_VERSION = "2026-11-23.1";
export const CONSENT_KIND = "personal_data";

export { maskedSequenceMean as sequenceMean, maskedValues as masked } from "../masking.js";

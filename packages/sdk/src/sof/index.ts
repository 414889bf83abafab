/** A GM/T 0020-style "SOF_" facade for teams migrating from the ActiveX-era certificate controls. */
export { Sof, SOF_FLAG, SIGNED_MESSAGE_INFO, type SofOptions } from './sof.js';
export { softContainer, type SofContainer } from './containers.js';
export { SOR, SGD_CERT, STF, VALIDATE_CERT, SofError } from './codes.js';

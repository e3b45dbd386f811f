// deploy/lab: a local multi-host cluster of network-namespace hosts.
export { Lab, LAB_STATE_DIR, unmountUnder, type LabHost, type LabOptions, type LabState } from './lab.js';

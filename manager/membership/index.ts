// manager/membership: the Raft group of managers — joins (learner, then voter), demotions and removals.
export { MembershipService, requestRaftJoin, type JoinRaftResponse } from './join-service.js';
export { RoleManager } from './role-manager.js';
export { canRemoveMember, nextMembershipStep, managerStatusChanges, type RaftView } from './plan.js';

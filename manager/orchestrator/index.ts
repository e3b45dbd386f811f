// manager/orchestrator: pure reconcile functions (replicated, restart, reaper) and the leader-side loops.
export { newTask, type TaskOrigin } from './task-factory.js';
export { groupSlots, isRunnable, slotKey, type Slot } from './slots.js';
export { reconcileReplicated, type ReconcileResult } from './replicated.js';
export { needsSupervision, restartDecision, type RestartDecision } from './restart.js';
export { tasksToReap } from './reaper.js';
export { reconcileGlobal, eligibleForGlobal } from './global.js';
export { updateStep, isUpToDate, type UpdateStep } from './update.js';
export { planOrchestration, type OrchestrationPlan } from './plan.js';
export { OrchestratorLoop } from './loop.js';

// worker/networks: a node's overlay networking for its tasks — each task's namespace, interfaces, VIP load
// balancer and DNS scope, and the routing mesh, kept in line with the dispatcher's network views.
export { NodeNetworks, type NodeNetworksOptions, type PreparedNetworks } from './node-networks.js';
export { taskAttachments, taskNetnsName, resolvConf, type TaskAttachment } from './task-networks.js';

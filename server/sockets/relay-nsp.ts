/**
 * The namespace another node opens to relay its browsers' consoles to the node that runs the
 * machine. Only a node of the cluster connects here: its handshake is signed with its node key
 * over this name and the user it acts for (the HTTP forward's signature); a user's cookie,
 * token or share link is never looked at.
 */
export const RELAY_NSP = '/console-relay';

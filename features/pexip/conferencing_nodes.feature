Feature: Conferencing Node deployment
  All Conferencing Nodes are deployed manually (Secure Mode guide: "Manually deploying a
  Conferencing Node on an ESXi host"), never automatically by the Management Node through
  vCenter.

  @CONF-02
  Scenario: Conferencing Nodes are deployed manually, not automatically through vCenter
    Given the nodes of the primary deployment
    Then every Conferencing Node has a manual deployment type

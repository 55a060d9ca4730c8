Feature: Conferencing Node deployment
  All Conferencing Nodes are deployed manually (Secure Mode guide: "Manually deploying a
  Conferencing Node on an ESXi host"), never automatically by the Management Node through
  vCenter.

  @CONF-02
  Scenario: Conferencing Nodes are deployed manually, not automatically through vCenter
    Given the nodes of the primary deployment
    Then every Conferencing Node has a manual deployment type

  @CONF-01
  Scenario: The deployer adds no Conferencing Node before the Management Node bootstrap is complete
    Given a scratch Management Node
    And its security wizard has not been run
    When the deployer is asked to deploy a Conferencing Node
    Then the deployer refuses because the bootstrap is not complete, and adds no Conferencing Node
    When the security wizard is run on its console with the site's answers
    And the deployer is asked to deploy a Conferencing Node
    Then the deployer adds the Conferencing Node

  @CONF-01
  Scenario: The primary deployment's bootstrap was complete before its Conferencing Nodes were deployed
    Then the site file attests it

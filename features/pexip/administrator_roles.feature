Feature: Administrator roles
  Users > Administrator Roles (older versions: Users > Account Roles).

  Background:
    Given the administrator roles of the primary deployment

  @ROLE-01
  Scenario: The Read-only role may not view logs or generate a system snapshot
    Then the "Read-only" role has neither "May view logs" nor "May generate system snapshot"

  @ROLE-02
  Scenario: The Read-write role may not view logs or generate a system snapshot
    Then the "Read-write" role has neither "May view logs" nor "May generate system snapshot"

  @ROLE-03
  Scenario: An Auditor role exists with the guide's permissions
    Then a role named "Auditor" has these permissions:
      | permission                   |
      | Is an administrator          |
      | May use web interface        |
      | May use API                  |
      | May view logs                |
      | May generate system snapshot |

"""A topic module whose teardown fails, for testing that teardown_all reports it."""


def build(lab):
    pass


def teardown(lab):
    raise RuntimeError("the emulator refused: DeleteConflict on thing-x")


def leftovers(lab):
    return ["thing-x"]

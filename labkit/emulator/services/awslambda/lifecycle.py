"""aws-like mode: a new Lambda function is Pending before it is Active.

AWS (Lambda developer guide, "Lambda function states"): "When you create a
function, the function enters the Pending state ... Invocations or other API
actions that operate on the function will fail" until it is Active; the
configuration carries StateReason "The function is being created." and
StateReasonCode "Creating". An invocation meanwhile is refused with
ResourceConflictException. boto3's waiter ``function_active_v2`` polls
GetFunction for State. Here Pending lasts :func:`labkit.emulator.aws_like.delay` seconds.
"""
from __future__ import annotations

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction

from labkit.emulator import aws_like
from labkit.emulator.patching import replace


class ResourceConflict(LambdaClientError):
    code = 409

    def __init__(self, state: str):
        super().__init__("ResourceConflictException",
                         "The operation cannot be performed at this time. The function is "
                         f"currently in the following state: {state}")


def install() -> None:
    if getattr(LambdaBackend.create_function, "_labkit_aws_like", False):
        return
    create, invoke = LambdaBackend.create_function, LambdaBackend.invoke
    configuration = LambdaFunction.get_configuration

    def create_function(self, spec):
        function = create(self, spec)
        if aws_like.enabled():
            function.state = "Pending"
            aws_like.later(lambda: setattr(function, "state", "Active")
                           if function.state == "Pending" else None)
        return function

    def invoke_function(self, function_name, qualifier, *args, **kwargs):
        if aws_like.enabled():
            function = self.get_function(function_name, qualifier)
            if function.state != "Active":
                raise ResourceConflict(function.state)
        return invoke(self, function_name, qualifier, *args, **kwargs)

    def get_configuration(self, *args, **kwargs):
        answer = configuration(self, *args, **kwargs)
        if self.state == "Pending":
            answer.update(StateReason="The function is being created.", StateReasonCode="Creating")
        return answer

    create_function._labkit_aws_like = True
    replace(LambdaBackend, "create_function", create_function)
    replace(LambdaBackend, "invoke", invoke_function)
    replace(LambdaFunction, "get_configuration", get_configuration)

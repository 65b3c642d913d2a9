"""The model's layer graph as a TensorBoard ``GraphDef``: one node per layer (op: the
layer's class), inputs from the layers that feed it, output shape as an attribute."""
from __future__ import annotations


def layer_graph_def(model):
    """A tensorboardX ``GraphDef`` of ``model``'s layers."""
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.versions_pb2 import VersionDef

    from ..utils.model_visualization import layer_edges, layer_attr, shape_text

    layers, edges = layer_edges(model)
    inputs: dict[int, list[str]] = {id(layer): [] for layer in layers}
    for producer, consumer in edges:
        inputs[id(consumer)].append(producer.name)
    nodes = [NodeDef(name=layer.name, op=type(layer).__name__, input=inputs[id(layer)],
                     attr={"output_shape": AttrValue(
                         s=shape_text(layer_attr(layer, "output_shape")).encode())})
             for layer in layers]
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


def write_graph(writer, model) -> None:
    """Add ``model``'s layer graph to a tensorboardX ``SummaryWriter``."""
    from tensorboardX.proto.event_pb2 import Event

    graph = layer_graph_def(model)
    writer._get_file_writer().add_event(Event(graph_def=graph.SerializeToString()))

import numpy as np
import pytest
import torch
from torch import nn

import nnwidgets as nw
from nnwidgets.core import decode_array
from nnwidgets.core.tasks import Attribution, Lime
from traitlets import TraitError
from planted import Planted, data


def digits_like():
    torch.manual_seed(0)
    X = np.random.default_rng(0).random((120, 16))
    net = nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    return net, X


def test_one_row_and_one_layer_selection_drive_every_view():
    net, X = digits_like()
    s = nw.Inspector(net, X)
    dash = nw.Dashboard(s, input_shape=(4, 4)).wait()
    assert dash.tab_titles == ["Model", "Explain", "Inside", "Attributions", "Importance", "Surrogates", "Weights"]
    assert dash.tiles is not None and dash.tiles.tiles["values"]["shape"] == [8, 4, 4]
    assert all(view.inspector is s for view in dash.views)
    dash.editor.row = 7  # a click in the editor
    dash.wait()
    for view in (dash.lime, dash.gam, dash.activations, dash.attributions, dash.importance, dash.surrogates):
        assert view.row == 7 and view.values == X[7].tolist(), type(view).__name__
    assert decode_array(dash.activations.activity["for_values"]).tolist() == X[7].tolist()
    dash.bars.selected_layer = "2"  # a click on a bar
    assert dash.selected_layer == s.selected_layer == dash.activations.selected_layer == dash.analysis.selected_layer == "2"
    assert dash.distributions.selected_layer == "2" and dash.heatmap.layer == "2"
    dash.target_class = 2
    dash.wait()
    assert dash.lime.result.label == 2 and dash.attributions.result.target == 2
    fig = dash.figure()
    assert len(fig.axes) == 4 and len(fig.axes[0].patches) == 3 and len(fig.axes[3].patches) == 3


def test_one_pass_over_the_data_serves_activations_and_their_analysis():
    net, X = digits_like()
    s = nw.Inspector(net, X)
    dash = nw.Dashboard(s).wait()
    from nnwidgets.core.tasks import OverData

    shared = s.peek(OverData())[1]
    assert dash.analysis.uses == shared.pass_.analysis
    assert dash.activations.activity["flags_ready"]


def test_tabular_inputs_have_no_tiles_tab_and_bad_arguments_are_named():
    """A width that happens to be a square (16 features) is not an image without input_shape."""
    net, X = digits_like()
    dash = nw.Dashboard(net, X)
    assert dash.tiles is None and "Inside" in dash.tab_titles
    with pytest.raises(TypeError, match="unexpected keyword argument.*'colour'"):
        nw.Dashboard(Planted(), data(), colour="red")
    with pytest.raises(ValueError, match="could not take X's rows"):
        nw.Dashboard(Planted(), data(features=2))
    with pytest.raises(TypeError, match="needs data"):
        nw.Dashboard(nw.Inspector(Planted()))


def test_a_dashboard_on_meta_weights_shows_messages_instead_of_crashing():
    with torch.device("meta"):
        net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    dash = nw.Dashboard(net, data()).wait()
    assert dash.bars.table["names"] == ["0", "1", "2"]
    assert "meta" in dash.heatmap.message
    for view in (dash.editor, dash.lime, dash.gam, dash.activations, dash.attributions, dash.importance, dash.surrogates):
        assert "meta" in view.error, type(view).__name__
        with pytest.raises(ValueError, match=f"{type(view).__name__} has nothing to draw: .*meta"):
            view.figure()  # says why, not a KeyError from an empty payload
    with pytest.raises(ValueError, match="InputEditor has nothing to draw"):
        dash.figure()


def test_a_three_dimensional_output_is_refused_with_what_it_needs():
    class PerToken(nn.Module):
        def forward(self, x):
            return x[:, :, None].repeat(1, 1, 6)

    with pytest.raises(ValueError, match="one row of class scores"):
        nw.Dashboard(PerToken(), data())


def test_views_in_hidden_tabs_compute_nothing_until_their_tab_is_chosen():
    net, X = digits_like()
    s = nw.Inspector(net, X)
    dash = nw.Dashboard(s).wait()
    inside = dash.tab_titles.index("Inside")
    shown = {"event": "view", "shown": True}
    dash._on_message(dash, shown, [])  # the dashboard is on the page, Model tab selected
    dash.selected_tab = inside  # a click on the Inside tab
    for view in (dash.editor, dash.activations, dash.analysis):
        view._on_message(view, {**shown, "in_layout": True}, [])
    lime_before, shown_before = dash.lime.result, dash.lime.explanation
    s.row = 11
    dash.activations.wait()
    assert decode_array(dash.activations.activity["for_values"]).tolist() == X[11].tolist()
    hidden_lime = Lime(tuple(X[11].tolist()), s.target_class, dash.lime.options)
    assert s.peek(hidden_lime) == (False, None)  # never computed: LIME's tab is hidden
    assert dash.lime.explanation is shown_before and not dash.lime.busy  # what the page has, untouched
    assert s.peek(Attribution(tuple(X[11].tolist()), s.target_class, "mean", "logit", dash.attributions.steps))[0] is False
    dash.selected_tab = dash.tab_titles.index("Explain")  # shown again: it catches up
    lime = dash.lime.wait().result
    assert lime is not lime_before and s.peek(hidden_lime) == (True, lime)
    assert np.allclose(lime.prediction, s.predict(X[11:12])[0])  # the model's own output for row 11
    activity = dash.activations.activity
    s.row = 13
    assert dash.activations.activity is activity  # now hidden itself: keeps what it showed
    assert dash.activations.wait().activity is not activity  # asked explicitly, it computes
    s.row = 12  # the editor sits above the tabs: never parked
    assert np.allclose(dash.editor.wait().prediction_values, s.predict(X[12:13])[0])
    assert dash.editor.working and not dash.activations.working and dash.lime.working
    dash.gam._on_message(dash.gam, shown, [])  # the GAM view displayed in a cell of its own as well
    s.row = 14
    terms_for = lambda: decode_array(dash.gam.row_terms["for_values"]).tolist()  # noqa: E731
    assert dash.gam.working and (dash.gam.busy or terms_for() == X[14].tolist())  # asked at once, not parked
    dash.gam.wait()
    assert terms_for() == X[14].tolist()
    with pytest.raises(TraitError, match="selected_tab must be between 0 and 6"):
        dash.selected_tab = 7


def test_a_dashboard_that_left_the_page_computes_nothing():
    net, X = digits_like()
    s = nw.Inspector(net, X)
    dash = nw.Dashboard(s).wait()
    dash._on_message(dash, {"event": "view", "shown": True}, [])
    dash.editor._on_message(dash.editor, {"event": "view", "shown": True, "in_layout": True}, [])
    dash._on_message(dash, {"event": "view", "shown": False}, [])  # its cell was cleared
    dash.editor._on_message(dash.editor, {"event": "view", "shown": False, "in_layout": True}, [])
    s.row = 5
    assert not any(view.working for view in dash.views)  # even the tabs never opened
    assert not any(view.busy for view in dash.views)
    assert s.peek(Lime(tuple(X[5].tolist()), s.target_class, dash.lime.options)) == (False, None)


def test_a_trainer_on_top_drives_every_view_and_outlives_the_dashboard():
    import time

    from sklearn.datasets import load_iris

    iris = load_iris()
    X, y = iris.data, iris.target
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    s = nw.Inspector(model, X, y=y)
    trainer = nw.Trainer(s, lr=0.05, batch_size=16)
    dash = nw.Dashboard(s, trainer=trainer)
    assert trainer in dash.children and dash.arrangement["items"][0]["title"] == "Training"
    assert dash.tab_titles[0] == "Model" and dash.tab_titles[-1] == "Training"
    dash.wait()
    trainer.step(40)
    deadline = time.monotonic() + 20
    while s.training and time.monotonic() < deadline:
        time.sleep(0.02)
    dash.wait()
    assert np.array_equal(decode_array(dash.heatmap.heatmap["values"]), model[0].weight.detach().numpy())
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(X[:1], dtype=torch.float32)), 1)[0].numpy()
    np.testing.assert_allclose(dash.editor.prediction_values, expected, rtol=1e-5, atol=1e-6)
    assert dash.monitor.total_steps == 40 and dash.monitor.history["0/weight_norm"]
    dash.close()
    assert trainer.step(1) is not None and not trainer._closed

    with pytest.raises(TypeError, match="nw.Trainer"):
        nw.Dashboard(s, trainer="adam")
    other = nw.Trainer(nn.Sequential(nn.Linear(4, 3)), X, y)
    with pytest.raises(ValueError, match="another model"):
        nw.Dashboard(s, trainer=other)


def test_a_dashboard_of_images_lays_out_the_image_views_on_one_selection():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images[:120, None] / 16.0, digits.target[:120]
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 10))
    s = nw.Inspector(cnn, images, y=labels)
    dash = nw.Dashboard(s)
    assert dash.tab_titles == ["Model", "Feature maps", "Activations", "Unit's input", "Weights"]
    assert {type(v).__name__ for v in dash.views} == {"ImageExplainer", "LayerBars", "WeightHeatmap", "FeatureMaps",
                                                      "Activations", "UnitVisualizer", "WeightDistributions"}
    dash.row = 9
    dash.selected_layer = "1"
    dash.wait()
    assert dash.images.row == dash.feature_maps.row == 9 and dash.feature_maps.selected_layer == "1"
    with torch.no_grad():  # the layer's output for picture 9, from the user's model itself
        expected = cnn[1](cnn[0](torch.tensor(images[9:10], dtype=torch.float32)))[0].numpy()
    np.testing.assert_allclose(dash.feature_maps.result.maps, expected, rtol=1e-5, atol=1e-6)
    painted = images[9].copy()
    painted[0, :, 4] = 1.0
    dash.values = painted  # painting: every view follows the one picture
    with torch.no_grad():
        probabilities = torch.softmax(cnn(torch.tensor(painted[None], dtype=torch.float32)), 1)[0].numpy()
    np.testing.assert_allclose(dash.images.prediction_values, probabilities, rtol=1e-5, atol=1e-6)
    assert dash.figure() is not None
    with pytest.raises(TypeError, match="input_shape"):
        nw.Dashboard(s, input_shape=(8, 8))
    dash.close()

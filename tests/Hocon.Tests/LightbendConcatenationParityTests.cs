namespace CoFUsfl.Hocon.Tests;

/// <summary>Cases from Lightbend config's ConcatenationTest, expected results as the reference implementation gives them.</summary>
public class LightbendConcatenationParityTests
{
    [Theory]
    [InlineData(" a :  true \"xyz\" 123 foo  ", """{"a":"true xyz 123 foo"}""")]
    [InlineData(" a : ${x}foo, x = 1 ", """{"a":"1foo","x":1}""")]
    [InlineData(" a : ${x}foo${x}, x = 1 ", """{"a":"1foo1","x":1}""")]
    [InlineData(" a :  [1,2] [3,4]  ", """{"a":[1,2,3,4]}""")]
    [InlineData(" a :  ${x} [3,4] ${y}, x : [1,2], y : [5,6]  ", """{"a":[1,2,3,4,5,6],"x":[1,2],"y":[5,6]}""")]
    [InlineData(" a : [1, 2], a : ${a} [3,4], a : ${a} [5,6]  ", """{"a":[1,2,3,4,5,6]}""")]
    [InlineData(" a :  [1,2\n ] [3,4]  ", """{"a":[1,2,3,4]}""")]
    [InlineData(" a : { b : c } { x : y }  ", """{"a":{"b":"c","x":"y"}}""")]
    [InlineData(" a : { b : 1 } { b : 2 } { b : 3 } { b : 4 } ", """{"a":{"b":4}}""")]
    [InlineData(" a : ${x} { b : 1 } ${y}, x : { a : 0 }, y : { c : 2 } ", """{"a":{"a":0,"b":1,"c":2},"x":{"a":0},"y":{"c":2}}""")]
    [InlineData(" a : { a : 0 }, a : ${a} { b : 1 }, a : ${a} { c : 2 } ", """{"a":{"a":0,"b":1,"c":2}}""")]
    [InlineData(" a : { b : 3 }, a : { b : 2 } ${a} ", """{"a":{"b":3}}""")]
    [InlineData(" a :  { b : c\n } { x : y }  ", """{"a":{"b":"c","x":"y"}}""")]
    [InlineData(" a : [ foo bar 10 ] ", """{"a":["foo bar 10"]}""")]
    [InlineData(" a : [ foo\n bar\n 10 ] ", """{"a":["foo","bar",10]}""")]
    [InlineData(" a : [ { b : c } { x : y } ] ", """{"a":[{"b":"c","x":"y"}]}""")]
    [InlineData(" a : [ { b : c }\n { x : y } ] ", """{"a":[{"b":"c"},{"x":"y"}]}""")]
    [InlineData(" a : [ [1, 2] [3, 4] ] ", """{"a":[[1,2,3,4]]}""")]
    [InlineData(" a : [ [1, 2]\n [3, 4] ] ", """{"a":[[1,2],[3,4]]}""")]
    [InlineData(" 123 foo : \"value\" ", """{"123 foo":"value"}""")]
    [InlineData(" a = [], a += 2 ", """{"a":[2]}""")]
    [InlineData(" a += 2 ", """{"a":[2]}""")]
    [InlineData(" a = [1], a += 2 ", """{"a":[1,2]}""")]
    [InlineData(" a.b.c = [1], a.b.c += 2 ", """{"a":{"b":{"c":[1,2]}}}""")]
    [InlineData(" a : { b : { c : [1] } }, a : { b : { c += 2 } }", """{"a":{"b":{"c":[1,2]}}}""")]
    [InlineData(" a : { b : { c : [1], c += 2 } }", """{"a":{"b":{"c":[1,2]}}}""")]
    [InlineData(" a = ${x}, a += ${y}, x = [1], y = 2 ", """{"a":[1,2],"x":[1],"y":2}""")]
    [InlineData(" a += 1, a += 2, a += 3 ", """{"a":[1,2,3]}""")]
    [InlineData(" x { a += 1, a += 2, a += 3 } ", """{"x":{"a":[1,2,3]}}""")]
    [InlineData(" a += { b: 1 }, a += { b: 2 }, a += { b: 3 } ", """{"a":[{"b":1},{"b":2},{"b":3}]}""")]
    [InlineData(" x { a += { b: 1 }, a += { b: 2 }, a += { b: 3 } } ", """{"x":{"a":[{"b":1},{"b":2},{"b":3}]}}""")]
    [InlineData("a = foo${?bar}", """{"a":"foo"}""")]
    [InlineData("bar=bar, a = foo${?bar}", """{"a":"foobar","bar":"bar"}""")]
    [InlineData("a = [1] ${?bar}", """{"a":[1]}""")]
    [InlineData("bar=[2], a = [1] ${?bar}", """{"a":[1,2],"bar":[2]}""")]
    [InlineData("a = { x : \"foo\" } ${?bar}", """{"a":{"x":"foo"}}""")]
    [InlineData("bar={ y : 42 }, a = { x : \"foo\" } ${?bar}", """{"a":{"x":"foo","y":42},"bar":{"y":42}}""")]
    [InlineData("a = ${?foo}${?bar}", "{}")]
    [InlineData("a = ${?foo}${?bar}${?baz}${?woooo}", "{}")]
    [InlineData("a = ${?foo} ${?bar}", """{"a":" "}""")]
    [InlineData("a = \"\"${?foo}${?bar}", """{"a":""}""")]
    public void Concatenation_resolves_like_lightbend(string text, string json)
    {
        H.Json(text).Should().Be(json);
    }

    [Theory]
    [InlineData(" a : ${x}\n foo, x = 1 ", "not be followed")]
    [InlineData(" a : abc { x : y } ", "Cannot concatenate")]
    [InlineData(" a : null { x : y } ", "Cannot concatenate")]
    [InlineData(" a : abc [1, 2] ", "Cannot concatenate")]
    [InlineData(" a : abc ${x}, x : { y : z } ", "Cannot concatenate")]
    [InlineData(" a : abc ${x}, x : [1,2] ", "Cannot concatenate")]
    [InlineData(" a :  [1,2]\n [3,4]  ", "'['")]
    [InlineData(" a :  { b : c }\n { x : y }", "'{'")]
    [InlineData("{ { a : 1 } : \"value\" }", "'{'")]
    [InlineData("{ [ \"a\" ] : \"value\" }", "'['")]
    [InlineData(" a = 10, a += 2 ", "Cannot concatenate")]
    [InlineData(" a = abc, a += 2 ", "Cannot concatenate")]
    [InlineData(" a = { x : y }, a += 2 ", "Cannot concatenate")]
    [InlineData("x = [ { a += 1, a += 2, a += 3 } ] ", "limitation")]
    [InlineData("x += { a += 1, a += 2, a += 3 } ", "limitation")]
    public void Concatenation_errors_like_lightbend(string text, string messagePart)
    {
        H.ParseError(text).Detail.Should().Contain(messagePart);
    }
}
